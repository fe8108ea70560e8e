import AgentsAPI
import Testing

@Suite("JSONReader and Field")
struct JSONReaderTests {
    static let document: JSONValue = [
        "name": "x", "nothing": nil, "count": 3, "whole": 4.0, "half": 4.5, "flag": true,
        "tools": [["type": "function", "name": 1]], "tags": ["a", 2], "map": ["k": "v", "n": 1],
    ]

    @Test func fieldDistinguishesAbsentNullAndValue() throws {
        let r = try JSONReader(Self.document)
        #expect(r.field("missing") == .absent)
        #expect(r.field("nothing") == .null)
        #expect(r.field("name") == .value("x"))
        #expect(try r.stringField("missing") == .absent)
        #expect(try r.stringField("nothing") == .null)
        #expect(try r.stringField("name") == .value("x"))
        #expect(Field<Int>.absent.value == nil && Field<Int>.null.value == nil && Field.value(1).value == 1)
        #expect(Field<Int>.absent.isAbsent && !Field<Int>.null.isAbsent)
        #expect(Field.value(2).map { $0 * 2 } == .value(4))
        #expect(Field<Int>.null.map { $0 * 2 } == .null)
    }

    @Test func integersAcceptIntegralNumbersOnly() throws {
        let r = try JSONReader(Self.document)
        #expect(try r.int("count") == 3)
        #expect(try r.int("whole") == 4)
        let error = validationError(Self.document) { (v: JSONValue) throws(ValidationError) in try JSONReader(v).int("half") }
        #expect(error?.param == "half")
        #expect(error?.code == "invalid_type")
    }

    @Test func nestedPathsNameTheOffendingField() throws {
        let r = try JSONReader(Self.document)
        let tools = try r.objectArray(r.array("tools"), key: "tools")
        #expect(tools.first?.param("name") == "tools[0].name")
        let nameError = validationError(Self.document) { (v: JSONValue) throws(ValidationError) in
            let r = try JSONReader(v)
            return try r.objectArray(r.array("tools"), key: "tools")[0].string("name")
        }
        #expect(nameError?.param == "tools[0].name")
        #expect(nameError?.code == "invalid_type")
        #expect(nameError?.message.contains("integer") == true)

        let tagError = validationError(Self.document) { (v: JSONValue) throws(ValidationError) in try JSONReader(v).stringArrayField("tags") }
        #expect(tagError?.param == "tags[1]")

        let mapError = validationError(Self.document) { (v: JSONValue) throws(ValidationError) in try JSONReader(v).stringMapField("map") }
        #expect(mapError?.param == "map.n")

        let missing = validationError(Self.document) { (v: JSONValue) throws(ValidationError) in try JSONReader(v).object("map").string("absent") }
        #expect(missing?.param == "map.absent")
        #expect(missing?.code == "missing_required_parameter")
    }

    @Test func rejectUnknownNamesTheFirstUnknownKey() throws {
        let r = try JSONReader(["a": 1, "zz": 2, "b": 3, "yy": 4])
        #expect(throws: Never.self) { try r.rejectUnknown(["a", "b", "zz", "yy", "extra"]) }
        let error = validationError(["a": 1, "zz": 2, "b": 3, "yy": 4]) { (v: JSONValue) throws(ValidationError) in try JSONReader(v).rejectUnknown(["a", "b"]) }
        #expect(error?.param == "zz")
        #expect(error?.code == "unknown_parameter")
    }

    @Test func enumFieldsListTheSupportedValues() {
        let error = validationError(["order": "up"]) { (v: JSONValue) throws(ValidationError) in try JSONReader(v).enumField("order", ListOrder.self) }
        #expect(error?.param == "order")
        #expect(error?.code == "invalid_value")
        #expect(error?.message.contains("'asc', 'desc'") == true)
    }

    @Test func aNonObjectBodyHasNoParam() {
        for body: JSONValue in [[], "x", 1, nil, true] {
            let error = validationError(body) { (v: JSONValue) throws(ValidationError) in try JSONReader(v) }
            #expect(error != nil)
            #expect(error?.param == nil)
            #expect(error?.code == "invalid_type")
        }
    }
}
