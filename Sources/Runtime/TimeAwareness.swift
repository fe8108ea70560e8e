import AgentsAPI
import Storage

/// `experimental.time_awareness`: the model is told the current time in a `<current_time>` note
/// added to the model's copy of an item as it joins the history: the first user message of every
/// turn, and then the next item once `timeReminderInterval` has passed. The note is stored with
/// the item's provider form, so the history only ever grows at its end (the cached prefix holds)
/// and a restart rebuilds the same bytes. The items list shows the items without it.
extension SessionRunner {
    func withTimeReminder(_ item: ItemRecord, startsTurn: Bool = false) -> ItemRecord {
        guard record.session.agent.config.timeAwareness else { return item }
        let now = ContinuousClock.now
        if !startsTurn, let last = lastTimeReminder, now - last < timeReminderInterval { return item }
        guard let annotated = ModelInput.addingNote(TimeReminder.note(unixSeconds: currentUnixSeconds()), to: item) else { return item }
        lastTimeReminder = now
        return annotated
    }
}

enum TimeReminder {
    static let weekdays = ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"]

    /// `<current_time>Wednesday, 2026-11-25 06:40 UTC</current_time>`.
    static func note(unixSeconds: Int64) -> String {
        let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        let secondsOfDay = unixSeconds - days * 86_400
        let (year, month, day) = civil(daysSinceEpoch: days)
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "<current_time>\(weekday), \(year)-\(two(month))-\(two(day)) \(two(secondsOfDay / 3600)):\(two(secondsOfDay % 3600 / 60)) UTC</current_time>"
    }

    /// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    static func civil(daysSinceEpoch: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension ModelInput {
    /// The record with `note` added to its provider form (a text part of a user message, the end
    /// of a tool result), or nil for items that cannot carry one.
    static func addingNote(_ note: String, to record: ItemRecord) -> ItemRecord? {
        var copy = record
        switch record.item {
        case .message(let m) where m.role == .user:
            guard case .object(var o)? = modelItem(for: record), case .array(var content)? = o["content"] else { return nil }
            content.append(["type": "input_text", "text": .string(note)])
            o["content"] = .array(content)
            copy.modelItem = .object(o)
        case .functionCallOutput:
            guard case .object(var o)? = modelItem(for: record) else { return nil }
            switch o["output"] {
            case .string(let s)?: o["output"] = .string(s + "\n\n" + note)
            case .array(var parts)?:
                parts.append(["type": "input_text", "text": .string(note)])
                o["output"] = .array(parts)
            default: return nil
            }
            copy.modelItem = .object(o)
        case .commandExecution:
            guard case .object(var o)? = record.modelItem, let output = o["output"]?.stringValue else { return nil }
            o["output"] = .string(output + "\n\n" + note)
            copy.modelItem = .object(o)
        default:
            return nil
        }
        return copy
    }
}
