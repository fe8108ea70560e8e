"""Crash test: hosted sessions run real commands while the server is SIGKILLed at random points.

One `cma serve` runs several hosted sessions. Every cycle submits messages (each scripted to make
the model run one to three `shell_command`s that append a unique ID to /workspace/journal.txt,
some with a `sleep` so a kill lands mid-command), keeps an SSE stream per session open (resuming
with `starting_after` after each restart), sleeps 0–1.5 s, SIGKILLs the server and restarts it on
the same data directory. Afterwards:

1. every event a stream received is in the session's log exactly once (same type), the log has no
   duplicate event IDs, and each connection received a gap-free slice of the log;
2. every acknowledged (202) message is a user item of its session exactly once;
3. no command ran twice (the journal has every ID at most once) and every `completed` command
   is in the journal;
4. every session gets back to `idle` (one silent for 30 s while not idle is stuck: reported with
   its turns and last events, while the other checks still run on the rest), no turn is left
   open, and every turn completed.

Knobs: CMA_CRASH_CYCLES (default 20), CMA_CRASH_SEED (default fixed, printed on failure; it fixes
the plan and the kill times, not the exact interleaving), CMA_CRASH_SESSIONS (default 4).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import openai
import pytest
from openai import OpenAI

from conftest import MODEL, token, user_message

pytestmark = pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")

CYCLES = int(os.environ.get("CMA_CRASH_CYCLES") or 20)
SEED = int(os.environ.get("CMA_CRASH_SEED") or 20261125)
SESSIONS = int(os.environ.get("CMA_CRASH_SESSIONS") or 4)
JOURNAL = "/workspace/journal.txt"
CID = re.compile(r"\bcid[0-9]{3}x[0-9a-f]{10}\b")
#: How long all sessions get to finish their turns once the kills stop.
SETTLE_TIMEOUT = 120.0
#: An unsettled session that has sent no event for this long is stuck (fail early).
STUCK_AFTER = 30.0
#: Per-read timeout of the watching streams (keep-alives come every 15 s; an idle stream just
#: reconnects, which exercises resuming too).
WATCH_READ_TIMEOUT = 10.0


def shell(command: str, call_id: str) -> dict[str, Any]:
    return {"type": "function_call", "name": "shell_command", "arguments": json.dumps({"command": command}), "call_id": call_id}


# ---------------------------------------------------------------------------------------------
# Bookkeeping


@dataclass
class Submission:
    session: str
    tok: str
    text: str
    key: str
    cycle: int
    cids: list[str]
    #: pending → acked, or unknown (no answer: maybe applied; sent again with the same key).
    state: str = "pending"
    attempts: list[str] = field(default_factory=list)


@dataclass
class Connection:
    """One SSE connection of a watcher: where it started and what it got."""

    starting_after: str | None  # None: the create stream, which starts at the log's beginning
    generation: int
    events: list[tuple[str, str]] = field(default_factory=list)  # (event_id, type)
    end: str = ""


class Crash:
    """Shared state of one run: the server, its incarnations, the record of what was seen."""

    def __init__(self, server: Any, scripted: Any, seed: int) -> None:
        self.server = server
        self.scripted = scripted
        self.seed = seed
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.up = threading.Event()
        self.generation = 0
        self.cycle = -1
        self.problems: list[str] = []  # server misbehaviour seen while running
        self.stderr: list[tuple[int, str]] = []  # (generation, stderr of that incarnation)
        self.timeline: list[str] = []
        self.submissions: list[Submission] = []
        self.cids: dict[str, tuple[str, int, str]] = {}  # cid → (session, cycle, command)
        self.t0 = time.monotonic()

    def note(self, text: str) -> None:
        with self.lock:
            self.timeline.append(f"{time.monotonic() - self.t0:7.2f}s c{self.cycle} g{self.generation} {text}")

    def problem(self, text: str) -> None:
        with self.lock:
            self.problems.append(f"cycle {self.cycle}, generation {self.generation}: {text}")
        self.note("PROBLEM " + text)

    def target(self) -> tuple[str, str, int] | None:
        with self.lock:
            if not self.up.is_set():
                return None
            return self.server.base_url, self.server.key, self.generation

    def client(self, timeout: float = 20.0) -> OpenAI:
        t = self.target()
        assert t is not None, "the server is down"
        return OpenAI(api_key=t[1], base_url=t[0], max_retries=0, timeout=timeout)

    def kill_and_restart(self) -> None:
        with self.lock:
            self.up.clear()
        proc = self.server.proc
        alive = proc.alive()
        code = proc.stop(signal.SIGKILL)
        self.stderr.append((self.generation, proc.stderr_text(limit=200_000)))
        if not alive:
            self.problem(f"the server had exited by itself before the kill (status {code})")
        elif code != -signal.SIGKILL:
            self.problem(f"the killed server's exit status is {code}")
        self.server.stop()  # cleans up the dead process
        self.note("killed")
        self.server.start()  # fails the test if the server cannot start on the data directory
        with self.lock:
            self.generation += 1
            self.up.set()
        self.note(f"restarted on port {self.server.port}")

    def context(self) -> str:
        """What a failure message needs besides the specific difference."""
        stderr = "\n".join(f"--- stderr of generation {g} ---\n{text[-3000:]}" for g, text in self.stderr if text.strip())
        return (
            f"\nseed {self.seed} (CMA_CRASH_SEED={self.seed} CMA_CRASH_CYCLES={CYCLES} to repeat), cycles {CYCLES}, sessions {SESSIONS}"
            f"\nserver problems seen while running: {self.problems or 'none'}"
            f"\ntimeline (last 60):\n" + "\n".join(self.timeline[-60:]) + ("\n" + stderr if stderr else "")
        )


class Watcher(threading.Thread):
    """Follows one session's events across restarts: first its create stream, then
    `GET …/events?starting_after=<last event received>` on every (re)connection."""

    def __init__(self, crash: Crash, session_id: str, create_stream: Any, created: Any) -> None:
        super().__init__(name=f"watch-{session_id}", daemon=True)
        self.crash = crash
        self.session_id = session_id
        self.stop_requested = threading.Event()
        self.connections: list[Connection] = []
        self.received: list[tuple[str, str, int, int]] = []  # (event_id, type, generation, cycle)
        self._stream = create_stream
        self._first = created
        self.lock = threading.Lock()
        self.last_time = time.monotonic()

    @property
    def last_event_id(self) -> str:
        with self.lock:
            return self.received[-1][0]

    def _record(self, conn: Connection, event: Any) -> None:
        event_id, kind = getattr(event, "event_id", None), getattr(event, "type", None)
        if kind == "error" and getattr(getattr(event, "error", None), "code", None) == "stream_buffer_overflow":
            conn.end = "buffer overflow"
            return
        if not event_id:
            self.crash.problem(f"{self.session_id}: event without event_id: {event!r:.300}")
            return
        with self.lock:
            conn.events.append((event_id, kind))
            self.received.append((event_id, kind, conn.generation, self.crash.cycle))
            self.last_time = time.monotonic()

    def _follow(self, conn: Connection, stream: Any) -> None:
        self.connections.append(conn)
        try:
            for event in stream:
                self._record(conn, event)
                if conn.end or self.stop_requested.is_set():
                    break
            conn.end = conn.end or "closed by the server"
        except (openai.APIConnectionError, openai.APITimeoutError) as e:
            conn.end = f"{type(e).__name__}"
        except Exception as e:  # noqa: BLE001 - a stream cut at a random byte may fail to parse
            conn.end = f"{type(e).__name__}: {e}"[:200]
        finally:
            try:
                stream.close()
            except Exception:  # noqa: BLE001
                pass

    def run(self) -> None:
        stream, self._stream = self._stream, None
        conn = Connection(starting_after=None, generation=self.crash.generation)
        self._record(conn, self._first)
        self._follow(conn, stream)
        while not self.stop_requested.is_set():
            t = self.crash.target()
            if t is None:
                time.sleep(0.05)
                continue
            base_url, key, generation = t
            client = OpenAI(api_key=key, base_url=base_url, max_retries=0, timeout=WATCH_READ_TIMEOUT)
            after = self.last_event_id
            try:
                stream = client.beta.agents.sessions.events.stream(
                    self.session_id, include_obfuscation=False, extra_query={"starting_after": after}
                )
            except (openai.APIConnectionError, openai.APITimeoutError):
                client.close()
                time.sleep(0.05)
                continue
            except openai.APIStatusError as e:
                client.close()
                now = self.crash.target()
                if now is not None and now[2] == generation:
                    self.crash.problem(f"{self.session_id}: resuming after received event {after} -> {e.status_code} {e.message}")
                    return
                continue
            self._follow(Connection(starting_after=after, generation=generation), stream)
            client.close()

    def stop(self) -> None:
        self.stop_requested.set()


# ---------------------------------------------------------------------------------------------
# Driving sessions


def plan_turn(crash: Crash, session_id: str, cycle: int) -> Submission:
    """Scripts one turn: one to three commands, in one or several model responses, then an answer."""
    rng = crash.rng
    tok = token()
    commands: list[tuple[str, str]] = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        cid = f"cid{cycle + 1:03d}x{uuid.uuid4().hex[:10]}"
        nap = f"sleep 0.{rng.randint(1, 6)}"
        command = rng.choice(
            [f"echo {cid} >> {JOURNAL}", f"{nap}; echo {cid} >> {JOURNAL}", f"echo {cid} >> {JOURNAL}; {nap}", f"{nap}; echo {cid} >> {JOURNAL}; {nap}"]
        )
        commands.append((cid, command))
        crash.cids[cid] = (session_id, cycle, command)
    # Small chunks with delays, so that kills also land while the model is streaming.
    options = {"chunk_size": 12, "delay_ms": 4}
    steps: list[dict[str, Any]] = []
    if rng.random() < 0.5:
        steps.append({"type": "response", "match": {"contains": tok}, "outputs": [shell(c, f"call_{cid}") for cid, c in commands], "options": options})
    else:
        for cid, c in commands:
            steps.append({"type": "response", "match": {"contains": tok}, "outputs": [shell(c, f"call_{cid}")], "options": options})
    steps.append(
        {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": f"Done with {tok}, all commands ran."}], "options": {"chunk_size": 3, "delay_ms": 8}}
    )
    crash.scripted.add(*steps)
    return Submission(
        session=session_id, tok=tok, text=f"{tok} run the journal commands", key="crash-" + tok, cycle=cycle, cids=[cid for cid, _ in commands]
    )


def submit(crash: Crash, sub: Submission) -> None:
    """Posts the message once (no SDK retries); a 202 acknowledges it, no answer leaves it unknown."""
    t = crash.target()
    if t is None:
        sub.state = "unknown"
        sub.attempts.append(f"g{crash.generation}: server down")
        return
    client = OpenAI(api_key=t[1], base_url=t[0], max_retries=0, timeout=10.0)
    try:
        client.beta.agents.sessions.events.create(sub.session, events=[user_message(sub.text)], idempotency_key=sub.key)
        sub.state = "acked"
        sub.attempts.append(f"g{t[2]}: 202")
    except (openai.APIConnectionError, openai.APITimeoutError) as e:
        sub.state = "unknown"
        sub.attempts.append(f"g{t[2]}: {type(e).__name__}")
    except openai.APIStatusError as e:
        sub.state = "unknown"
        sub.attempts.append(f"g{t[2]}: {e.status_code}")
        crash.problem(f"POST events for {sub.session} ({sub.tok}, key {sub.key}) -> {e.status_code} {e.message}")
    finally:
        client.close()
    crash.note(f"submit {sub.session} {sub.tok} -> {sub.attempts[-1]}")


def resend_unknown(crash: Crash) -> None:
    """Sends every unanswered submission again with its idempotency key (the server is up)."""
    for sub in crash.submissions:
        tries = 0
        while sub.state == "unknown" and tries < 5:
            tries += 1
            submit(crash, sub)
            if sub.state == "unknown":
                time.sleep(0.2)


def session_state(client: OpenAI, session_id: str) -> tuple[str, list[tuple[str, str]]]:
    session = client.beta.agents.sessions.retrieve(session_id)
    turns = list(client.beta.agents.sessions.turns.list(session_id, order="asc", limit=100))
    return session.status, [(t.id, t.status) for t in turns]


def wait_settled(crash: Crash, watchers: dict[str, Watcher], timeout: float) -> dict[str, str]:
    """Waits until every session is idle with every turn terminal. Returns the stragglers (session
    ID → what it looks like) once `timeout` has passed or one of them has been silent (no event)
    for STUCK_AFTER seconds; an empty dict when all settled."""
    session_ids = list(watchers)
    client = crash.client()
    started = time.monotonic()
    deadline = started + timeout
    try:
        while True:
            states = {sid: session_state(client, sid) for sid in session_ids}
            open_ = {
                sid: st for sid, st in states.items() if st[0] != "idle" or any(s not in ("completed", "failed", "cancelled") for _, s in st[1])
            }
            if not open_:
                return {}
            silent = max(time.monotonic() - watchers[sid].last_time for sid in open_)
            if time.monotonic() > deadline or (time.monotonic() - started > STUCK_AFTER and silent > STUCK_AFTER):
                stragglers = {}
                for sid, st in open_.items():
                    w = watchers[sid]
                    with w.lock:
                        last = [(eid, kind, f"g{g}", f"c{c}") for eid, kind, g, c in w.received[-4:]]
                        idle_for = time.monotonic() - w.last_time
                    stragglers[sid] = (
                        f"status {st[0]} {time.monotonic() - started:.0f}s after the last kill, "
                        f"unfinished turns {[(tid, s) for tid, s in st[1] if s not in ('completed',)]}, "
                        f"no event for {idle_for:.0f}s, last events received {last}"
                    )
                return stragglers
            time.sleep(0.25)
    finally:
        client.close()


def read_log(crash: Crash, watcher: Watcher, first_event_id: str, out: dict[str, Any]) -> None:
    """The session's whole log after its first event, read until 2 s pass without an event. If
    that happens before every event the watcher received has come by, reading resumes from the
    last event read (a slow server must not look like a lost event); a few times at most."""
    session_id = watcher.session_id
    with watcher.lock:
        wanted = {eid for eid, _, _, _ in watcher.received}
    events: list[tuple[str, str]] = []
    try:
        for _ in range(4):
            client = crash.client(timeout=2.0)
            try:
                after = events[-1][0] if events else first_event_id
                stream = client.beta.agents.sessions.events.stream(session_id, include_obfuscation=False, extra_query={"starting_after": after})
                try:
                    for event in stream:
                        events.append((event.event_id, event.type))
                except (openai.APITimeoutError, openai.APIConnectionError):
                    pass
            finally:
                client.close()
            if wanted <= {first_event_id} | {eid for eid, _ in events}:
                break
        out[session_id] = events
    except Exception as e:  # noqa: BLE001
        out[session_id] = e


# ---------------------------------------------------------------------------------------------
# The test


def test_sigkill_cycles_lose_nothing_and_run_no_command_twice(cma_factory, scripted):
    server = cma_factory()
    crash = Crash(server, scripted, SEED)
    crash.up.set()
    started = time.monotonic()

    # Sessions, each created with a streamed first turn; its watcher goes on with that stream.
    watchers: dict[str, Watcher] = {}
    first_event: dict[str, str] = {}
    setup_client = crash.client(timeout=30.0)
    for _ in range(SESSIONS):
        first = plan_turn(crash, "pending", -1)
        stream = setup_client.beta.agents.sessions.create(
            agent={"model": MODEL}, environment={"type": "openai_hosted"}, input=first.text, stream=True
        )
        created = next(iter(stream))
        assert created.type == "agent.session.created", created
        sid = created.session.id
        first.session, first.state = sid, "acked"
        first.attempts.append("g0: create 200")
        for cid in first.cids:
            crash.cids[cid] = (sid, -1, crash.cids[cid][2])
        crash.submissions.append(first)
        first_event[sid] = created.event_id
        watchers[sid] = Watcher(crash, sid, stream, created)
        watchers[sid].start()
    session_ids = list(watchers)

    for cycle in range(CYCLES):
        crash.cycle = cycle
        resend_unknown(crash)
        # Plan this cycle: a message to most sessions, sometimes two (the second steers the
        # running turn or queues behind it).
        subs: list[Submission] = []
        for sid in session_ids:
            r = crash.rng.random()
            count = 0 if r < 0.25 else 2 if r > 0.85 else 1
            subs += [plan_turn(crash, sid, cycle) for _ in range(count)]
        crash.rng.shuffle(subs)
        delays = [crash.rng.uniform(0, 0.4) for _ in subs]
        kill_after = crash.rng.uniform(0, 1.5)
        crash.submissions += subs

        def submitter(subs: list[Submission] = subs, delays: list[float] = delays) -> None:
            for sub, delay in zip(subs, delays):
                time.sleep(delay)
                submit(crash, sub)

        thread = threading.Thread(target=submitter, name=f"submit-{cycle}", daemon=True)
        thread.start()
        time.sleep(kill_after)
        crash.note(f"kill after {kill_after:.2f}s")
        crash.kill_and_restart()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the submitter hung" + crash.context()

    setup_client.close()
    crash.cycle = CYCLES
    resend_unknown(crash)
    unknown = [s for s in crash.submissions if s.state != "acked"]
    assert not unknown, f"submissions never acknowledged after restarts: {[(s.session, s.tok, s.attempts) for s in unknown]}" + crash.context()
    kills_done = time.monotonic()

    # 4. Every session gets back to idle. A stuck one is reported at the end; the other checks
    #    still run (its journal cannot be read: a new message would only queue behind its turn).
    stuck = wait_settled(crash, watchers, SETTLE_TIMEOUT)
    settled = time.monotonic()
    healthy = [sid for sid in session_ids if sid not in stuck]

    # Read each journal with one more turn (no more kills).
    for sid in healthy:
        tok = token()
        cid = f"cat{tok}"
        scripted.add(
            {"type": "response", "match": {"contains": tok}, "outputs": [shell(f"cat {JOURNAL}", f"call_{cid}")]},
            {"type": "response", "match": {"contains": tok}, "outputs": [{"type": "message", "text": "Here is the journal."}]},
        )
        sub = Submission(session=sid, tok=tok, text=f"{tok} show the journal", key="crash-" + tok, cycle=CYCLES, cids=[])
        submit(crash, sub)
        assert sub.state == "acked", f"journal turn for {sid}: {sub.attempts}" + crash.context()
        crash.submissions.append(sub)
    stuck.update(wait_settled(crash, {sid: watchers[sid] for sid in healthy}, 60.0))

    for w in watchers.values():
        w.stop()
    logs: dict[str, Any] = {}
    readers = [threading.Thread(target=read_log, args=(crash, watchers[sid], first_event[sid], logs)) for sid in session_ids]
    for r in readers:
        r.start()
    for r in readers:
        r.join(timeout=60)

    client = crash.client(timeout=30.0)
    failures: list[str] = []
    info: list[str] = []
    try:
        for sid in session_ids:
            w = watchers[sid]
            raw = logs.get(sid)
            if not isinstance(raw, list):
                failures.append(f"{sid}: could not read the log: {raw!r}")
                continue
            log = [(first_event[sid], "agent.session.created")] + raw
            positions: dict[str, int] = {}
            dups = [eid for eid, n in Counter(eid for eid, _ in log).items() if n > 1]
            if dups:
                failures.append(f"{sid}: the log has duplicate event_ids: {dups[:10]}")
            for index, (eid, _) in enumerate(log):
                positions.setdefault(eid, index)
            kinds = dict(log)

            # 1. Every received event is in the log once, with its type; each connection got a
            #    gap-free slice of the log.
            with w.lock:
                received = list(w.received)
                connections = [Connection(c.starting_after, c.generation, list(c.events), c.end) for c in w.connections]
            missing = [(eid, kind, f"g{g}", f"c{c}") for eid, kind, g, c in received if eid not in positions]
            if missing:
                failures.append(f"{sid}: {len(missing)} received events are not in the log after the restarts, e.g. {missing[:8]}")
            wrong = [(eid, kind, kinds[eid]) for eid, kind, _, _ in received if eid in kinds and kinds[eid] != kind]
            if wrong:
                failures.append(f"{sid}: events whose logged type differs from the streamed one: {wrong[:8]}")
            twice = [(eid, n) for eid, n in Counter(eid for eid, _, _, _ in received).items() if n > 1]
            if twice:
                # Received twice over different connections is a duplicate from resuming.
                failures.append(f"{sid}: events received twice across resumed connections: {twice[:8]}")
            for n, conn in enumerate(connections):
                start = 0 if conn.starting_after is None else positions.get(conn.starting_after, -2) + 1
                expected = [eid for eid, _ in log[start : start + len(conn.events)]] if start >= 0 else []
                got = [eid for eid, _ in conn.events]
                if got != expected:
                    at = next((i for i, (a, b) in enumerate(zip(got, expected)) if a != b), min(len(got), len(expected)))
                    failures.append(
                        f"{sid}: connection {n} (generation {conn.generation}, starting_after {conn.starting_after}, ended: {conn.end}) "
                        f"differs from the log at its event {at}: got {conn.events[at:at + 3]}, log has {log[start + at:start + at + 3]}"
                    )
            info.append(f"{sid}: {len(log)} logged events, {len(received)} received over {len(connections)} connections")
            if sid in stuck:
                failures.insert(0, f"{sid} never got back to idle: {stuck[sid]}")
                continue

            # 2. Every acknowledged message is a user item, once.
            items = list(client.beta.agents.sessions.items.list(sid, order="asc", limit=100))
            user_texts = [
                "".join(getattr(c, "text", "") or "" for c in (getattr(i, "content", None) or []))
                for i in items
                if i.type == "message" and getattr(i, "role", None) == "user"
            ]
            for sub in (s for s in crash.submissions if s.session == sid and s.state == "acked"):
                n = sum(sub.tok in t for t in user_texts)
                if n != 1:
                    failures.append(f"{sid}: acknowledged message {sub.tok} (cycle {sub.cycle}, attempts {sub.attempts}) is {n} items")

            # 3. No command ran twice; completed commands are in the journal.
            commands = [i for i in items if i.type == "command_execution"]
            cat = [i for i in commands if i.command == f"cat {JOURNAL}"]
            if len(cat) != 1 or cat[0].status != "completed":
                failures.append(f"{sid}: the journal turn's command: {[(i.status, i.output) for i in cat]}")
                continue
            journal = Counter(CID.findall(cat[0].output or ""))
            lines = [l for l in (cat[0].output or "").splitlines() if l.strip()]
            if len(lines) != sum(journal.values()):
                failures.append(f"{sid}: unexpected journal lines: {[l for l in lines if not CID.fullmatch(l)][:5]}")
            ran_twice = {cid: n for cid, n in journal.items() if n > 1}
            if ran_twice:
                failures.append(f"{sid}: commands ran more than once: {[(cid, n, crash.cids.get(cid)) for cid, n in ran_twice.items()]}")
            foreign = [cid for cid in journal if crash.cids.get(cid, (None,))[0] != sid]
            if foreign:
                failures.append(f"{sid}: journal IDs that were never scripted for this session: {foreign[:5]}")
            per_item = Counter(cid for i in commands for cid in CID.findall(i.command or ""))
            doubled = {cid: n for cid, n in per_item.items() if n > 1}
            if doubled:
                failures.append(f"{sid}: a scripted command became several command_execution items: {doubled}")
            not_logged = [(i.id, i.command) for i in commands if i.status == "completed" and i is not cat[0] and not any(c in journal for c in CID.findall(i.command or ""))]
            if not_logged:
                failures.append(f"{sid}: completed commands missing from the journal: {not_logged[:5]}")
            statuses = Counter(i.status for i in commands if i is not cat[0])
            interrupted = sum(1 for i in commands if "runtime restarted" in (i.output or ""))
            info.append(f"{sid}: {len(commands) - 1} commands {dict(statuses)} ({interrupted} interrupted by a kill), journal {sum(journal.values())} lines")

            # 4. (continued) Idle, with no open turn, and no turn failed or was cancelled.
            status, turns = session_state(client, sid)
            open_turns = [(tid, s) for tid, s in turns if s not in ("completed", "failed", "cancelled")]
            if status != "idle" or open_turns:
                failures.append(f"{sid}: status {status}, open turns {open_turns}")
            failed = [t for t in client.beta.agents.sessions.turns.list(sid, order="asc", limit=100) if t.status != "completed"]
            if failed:
                failures.append(f"{sid}: turns that did not complete: {[(t.id, t.status, getattr(t, 'error', None)) for t in failed][:5]}")
    finally:
        client.close()

    if crash.problems:
        failures = [f"while running: {p}" for p in crash.problems] + failures
    timing = f"setup+{CYCLES} kill cycles {kills_done - started:.1f}s, settle {settled - kills_done:.1f}s, checks {time.monotonic() - settled:.1f}s"
    assert not failures, "\n".join(failures) + "\n" + "\n".join(info) + "\n" + timing + crash.context()
    print("\n".join(info) + "\n" + timing)
