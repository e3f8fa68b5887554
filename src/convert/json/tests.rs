//! JsonConverter against Kafka's own `JsonConverterTest` cases and Jackson's reading rules.
use super::*;
use crate::data::{Field, Schema, Type, Value};

fn cfg(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn enc(c: &JsonConverter, schema: Option<&Schema>, v: &Value) -> String {
    String::from_utf8(c.from_connect("t", schema, v).unwrap().expect("bytes")).unwrap()
}

fn dec(c: &JsonConverter, s: &str) -> SchemaAndValue {
    c.to_connect("t", Some(s.as_bytes())).unwrap()
}

// The expected strings below follow JsonConverter.asJsonSchema / convertToJson member
// insertion order (Jackson ObjectNode = LinkedHashMap) and Jackson's compact output.

#[test]
fn envelope_string() {
    let c = JsonConverter::default();
    let s = enc(&c, Some(&Schema::string()), &Value::String("foo".into()));
    assert_eq!(s, r#"{"schema":{"type":"string","optional":false},"payload":"foo"}"#);
    let s = enc(&c, Some(&Schema::optional_string()), &Value::Null);
    assert_eq!(s, r#"{"schema":{"type":"string","optional":true},"payload":null}"#);
}

#[test]
fn compact_envelope_fast_path_matches_general_path() {
    let c = JsonConverter::default();
    for (schema, v) in [
        (Schema::string(), Value::String("a \"q\" \u{1}".into())),
        (Schema::optional_string(), Value::Null),
        (Schema::int64(), Value::Int64(-5)),
        (Schema::optional(Type::Int8), Value::Int8(3)),
        (Schema::of(Type::Float32), Value::Float32(0.5)),
        (Schema::optional_bytes(), Value::Bytes(vec![1, 2])),
        (Schema::of(Type::Boolean), Value::Boolean(false)),
    ] {
        let b = c.from_connect("t", Some(&schema), &v).unwrap().unwrap();
        let fast = c.to_connect("t", Some(&b)).unwrap();
        assert_eq!(fast, SchemaAndValue { schema: Some(schema.clone()), value: v.clone() });
        // The same document spaced out takes the general path.
        let spaced = String::from_utf8(b.clone()).unwrap().replacen(",\"payload\":", ", \"payload\" : ", 1);
        assert_eq!(c.to_connect("t", Some(spaced.as_bytes())).unwrap(), fast);
    }
    // Extra members after the payload are refused, whatever the path.
    let e = c
        .to_connect("t", Some(br#"{"schema":{"type":"string","optional":false},"payload":"x","extra":1}"#))
        .unwrap_err();
    assert!(e.message.starts_with("JsonConverter with schemas.enable requires"));
    // A required null payload fails the same way.
    let e = c.to_connect("t", Some(br#"{"schema":{"type":"string","optional":false},"payload":null}"#)).unwrap_err();
    assert_eq!(e.message, "Invalid null value for required STRING field");
    // Broken payload JSON falls back to the general path and its error.
    let e = c.to_connect("t", Some(br#"{"schema":{"type":"string","optional":false},"payload":"x}"#)).unwrap_err();
    assert!(e.message.starts_with("Converting byte[] to Kafka Connect data failed due to serialization error: "));
}

#[test]
fn envelope_primitives() {
    let c = JsonConverter::default();
    assert_eq!(
        enc(&c, Some(&Schema::int32()), &Value::Int32(-42)),
        r#"{"schema":{"type":"int32","optional":false},"payload":-42}"#
    );
    assert_eq!(
        enc(&c, Some(&Schema::int64()), &Value::Int64(i64::MAX)),
        r#"{"schema":{"type":"int64","optional":false},"payload":9223372036854775807}"#
    );
    assert_eq!(
        enc(&c, Some(&Schema::of(Type::Boolean)), &Value::Boolean(true)),
        r#"{"schema":{"type":"boolean","optional":false},"payload":true}"#
    );
    assert_eq!(
        enc(&c, Some(&Schema::bytes()), &Value::Bytes(vec![0, 1, 2, 0xFF])),
        r#"{"schema":{"type":"bytes","optional":false},"payload":"AAEC/w=="}"#
    );
    assert_eq!(
        enc(&c, Some(&Schema::optional(Type::Float64)), &Value::Float64(12.0)),
        r#"{"schema":{"type":"double","optional":true},"payload":12.0}"#
    );
    assert_eq!(
        enc(&c, Some(&Schema::of(Type::Float32)), &Value::Float32(1e10)),
        r#"{"schema":{"type":"float","optional":false},"payload":1.0E10}"#
    );
    assert_eq!(
        enc(&c, Some(&Schema::of(Type::Float64)), &Value::Float64(f64::NAN)),
        r#"{"schema":{"type":"double","optional":false},"payload":"NaN"}"#
    );
    assert_eq!(
        enc(&c, Some(&Schema::of(Type::Int8)), &Value::Int8(7)),
        r#"{"schema":{"type":"int8","optional":false},"payload":7}"#
    );
    assert_eq!(
        enc(&c, Some(&Schema::optional(Type::Int16)), &Value::Int16(300)),
        r#"{"schema":{"type":"int16","optional":true},"payload":300}"#
    );
}

#[test]
fn envelope_struct_with_optional_timestamp() {
    // The kafkatest transformations test: HoistField$Value(content) + InsertField$Value
    // (timestamp.field) on FileStreamSource lines.
    let c = JsonConverter::default();
    let schema = Schema::structure(vec![
        Field::new("content", Schema::string()),
        Field::new("the_timestamp", Schema::timestamp(true)),
    ]);
    let v = Value::Struct(vec![
        ("content".into(), Value::String("hello".into())),
        ("the_timestamp".into(), Value::Int64(1_700_000_000_123)),
    ]);
    let s = enc(&c, Some(&schema), &v);
    assert_eq!(
        s,
        concat!(
            r#"{"schema":{"type":"struct","fields":["#,
            r#"{"type":"string","optional":false,"field":"content"},"#,
            r#"{"type":"int64","optional":true,"name":"org.apache.kafka.connect.data.Timestamp","version":1,"field":"the_timestamp"}"#,
            r#"],"optional":false},"payload":{"content":"hello","the_timestamp":1700000000123}}"#
        )
    );
    // Same JSON (order aside) as the kafkatest's expected_schema.
    let parsed: serde_json::Value = serde_json::from_str(&s).unwrap();
    let expected: serde_json::Value = serde_json::from_str(
        r#"{"type":"struct","fields":[{"field":"content","type":"string","optional":false},{"field":"the_timestamp","name":"org.apache.kafka.connect.data.Timestamp","type":"int64","version":1,"optional":true}],"optional":false}"#,
    )
    .unwrap();
    assert_eq!(parsed["schema"], expected);
    // Round trip.
    let back = dec(&c, &s);
    assert_eq!(back.schema.as_ref(), Some(&schema));
    assert_eq!(back.value, v);
    // A null optional field.
    let v2 = Value::Struct(vec![("content".into(), Value::String("x".into()))]);
    assert!(enc(&c, Some(&schema), &v2).ends_with(r#""payload":{"content":"x","the_timestamp":null}}"#));
}

#[test]
fn envelope_array_and_maps() {
    let c = JsonConverter::default();
    let schema = Schema::array(Schema::int32());
    let v = Value::Array(vec![Value::Int32(1), Value::Int32(2)]);
    let s = enc(&c, Some(&schema), &v);
    assert_eq!(
        s,
        r#"{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false},"payload":[1,2]}"#
    );
    assert_eq!(dec(&c, &s), SchemaAndValue { schema: Some(schema), value: v });

    let schema = Schema::map(Schema::string(), Schema::int32());
    let v =
        Value::Map(vec![(Value::String("a".into()), Value::Int32(1)), (Value::String("b".into()), Value::Int32(2))]);
    let s = enc(&c, Some(&schema), &v);
    assert_eq!(
        s,
        r#"{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"a":1,"b":2}}"#
    );
    assert_eq!(dec(&c, &s), SchemaAndValue { schema: Some(schema), value: v });

    let schema = Schema::map(Schema::int32(), Schema::optional_string());
    let v = Value::Map(vec![(Value::Int32(1), Value::String("x".into())), (Value::Int32(2), Value::Null)]);
    let s = enc(&c, Some(&schema), &v);
    assert_eq!(
        s,
        r#"{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"string","optional":true},"optional":false},"payload":[[1,"x"],[2,null]]}"#
    );
    assert_eq!(dec(&c, &s), SchemaAndValue { schema: Some(schema), value: v });
}

#[test]
fn schema_metadata_order_and_defaults() {
    let c = JsonConverter::default();
    let mut params = BTreeMap::new();
    params.insert("k".to_string(), "v".to_string());
    let schema = Schema {
        name: Some("n".into()),
        version: Some(3),
        doc: Some("d\"oc".into()),
        parameters: Some(params),
        default: Some(Box::new(Value::String("dflt".into()))),
        ..Schema::optional_string()
    };
    let s = enc(&c, Some(&schema), &Value::Null);
    assert_eq!(
        s,
        r#"{"schema":{"type":"string","optional":true,"name":"n","version":3,"doc":"d\"oc","parameters":{"k":"v"},"default":"dflt"},"payload":"dflt"}"#
    );
    let back = dec(&c, &s);
    assert_eq!(back.schema.as_ref(), Some(&schema));
    assert_eq!(back.value, Value::String("dflt".into()));

    // replace.null.with.default=false keeps the null.
    let c2 = JsonConverter::new(&cfg(&[("replace.null.with.default", "false")])).unwrap();
    assert!(enc(&c2, Some(&schema), &Value::Null).ends_with(r#""payload":null}"#));
    let back = dec(&c2, &s.replace(r#""payload":"dflt""#, r#""payload":null"#));
    assert_eq!(back.value, Value::Null);
}

#[test]
fn decimals() {
    let schema = Schema::decimal(2, false);
    let v = Value::Bytes(text::digits_to_twos_complement(false, "12345")); // 123.45
    let c = JsonConverter::default();
    let s = enc(&c, Some(&schema), &v);
    assert_eq!(
        s,
        r#"{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"MDk="}"#
    );
    assert_eq!(dec(&c, &s).value, v);
    let n = JsonConverter::new(&cfg(&[("decimal.format", "numeric")])).unwrap();
    let s = enc(&n, Some(&schema), &v);
    assert!(s.ends_with(r#""payload":123.45}"#), "{s}");
    assert_eq!(dec(&n, &s).value, v);
    assert_eq!(
        dec(&n, &s.replace("123.45", "123.4")).value,
        Value::Bytes(text::digits_to_twos_complement(false, "12340"))
    );
}

#[test]
fn string_escaping_like_jackson() {
    let c = JsonConverter::with_schemas(false);
    let s = enc(&c, Some(&Schema::string()), &Value::String("a\"b\\c\n\t\u{1}\u{1f}\u{7f}/é😀".into()));
    assert_eq!(s, "\"a\\\"b\\\\c\\n\\t\\u0001\\u001F\u{7f}/é😀\"");
    let back = dec(&c, &s);
    assert_eq!(back.value, Value::String("a\"b\\c\n\t\u{1}\u{1f}\u{7f}/é😀".into()));
    assert_eq!(dec(&c, r#""\ud83d\ude00\/""#).value, Value::String("😀/".into()));
}

#[test]
fn schemas_disabled_bare_output_and_inference() {
    let c = JsonConverter::new(&cfg(&[("schemas.enable", "false")])).unwrap();
    assert_eq!(enc(&c, Some(&Schema::string()), &Value::String("foo".into())), r#""foo""#);
    assert_eq!(enc(&c, Some(&Schema::int64()), &Value::Int64(5)), "5");
    assert_eq!(enc(&c, Some(&Schema::optional_string()), &Value::Null), "null");
    assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
    let v = dec(&c, r#"{"a":1,"b":[1.5,"x",true,null],"c":{"d":-7}}"#);
    assert_eq!(v.schema, None);
    assert_eq!(
        v.value,
        Value::Map(vec![
            (Value::String("a".into()), Value::Int64(1)),
            (
                Value::String("b".into()),
                Value::Array(vec![Value::Float64(1.5), Value::String("x".into()), Value::Boolean(true), Value::Null])
            ),
            (Value::String("c".into()), Value::Map(vec![(Value::String("d".into()), Value::Int64(-7))])),
        ])
    );
    assert_eq!(dec(&c, "null"), SchemaAndValue::NULL);
    assert_eq!(dec(&c, ""), SchemaAndValue::NULL);
    assert_eq!(dec(&c, " 007 ").value, Value::Int64(7));
    // Content after the first root value is ignored, as Jackson's readTree does.
    assert_eq!(dec(&c, "{} trailing").value, Value::Map(vec![]));
    // Schemaless maps: all-string keys → object, otherwise pairs.
    let m = Value::Map(vec![(Value::String("k".into()), Value::Int32(1))]);
    assert_eq!(enc(&c, None, &m), r#"{"k":1}"#);
    let m = Value::Map(vec![(Value::Int32(1), Value::Int32(2))]);
    assert_eq!(enc(&c, None, &m), "[[1,2]]");
}

#[test]
fn schema_none_with_schemas_enabled() {
    let c = JsonConverter::default();
    assert_eq!(enc(&c, None, &Value::Int32(5)), r#"{"schema":null,"payload":5}"#);
    assert_eq!(c.from_connect("t", None, &Value::Null).unwrap(), None);
    let back = dec(&c, r#"{"schema":null,"payload":5}"#);
    assert_eq!(back, SchemaAndValue { schema: None, value: Value::Int64(5) });
    assert_eq!(c.to_connect("t", None).unwrap(), SchemaAndValue::NULL);
}

#[test]
fn envelope_errors() {
    let c = JsonConverter::default();
    for bad in [r#"{"payload":1}"#, r#"{"schema":null,"payload":1,"x":2}"#, "5", "[]", "", r#""s""#] {
        let e = c.to_connect("t", Some(bad.as_bytes())).unwrap_err();
        assert_eq!(
            e.message,
            "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.",
            "{bad}"
        );
    }
    // Duplicate keys still make exactly two fields (last one wins).
    let v = dec(&c, r#"{"schema":null,"schema":{"type":"int32"},"payload":3}"#);
    assert_eq!(v.value, Value::Int32(3));
    for bad in ["{", "hello", "[1,]", "{\"a\" 1}", "123abc", "tru", "\"\u{1}\"", "01.", "[1 2]", "\"\\x\""] {
        let e = c.to_connect("t", Some(bad.as_bytes())).unwrap_err();
        assert!(
            e.message.starts_with("Converting byte[] to Kafka Connect data failed due to serialization error: "),
            "{bad}: {}",
            e.message
        );
    }
    let e = c.to_connect("t", Some(b"\"\xff\"")).unwrap_err();
    assert!(e.message.starts_with("Converting byte[] to Kafka Connect data failed due to serialization error: "));
    let deep = "[".repeat(1001) + &"]".repeat(1001);
    assert!(JsonConverter::with_schemas(false).to_connect("t", Some(deep.as_bytes())).is_err());
    // 1000 levels (Jackson's limit) convert both ways on a 2 MiB test thread, even unoptimized.
    let ok = "[".repeat(1000) + &"]".repeat(1000);
    let c = JsonConverter::with_schemas(false);
    let v = c.to_connect("t", Some(ok.as_bytes())).unwrap().value;
    assert_eq!(c.from_connect("t", None, &v).unwrap().unwrap(), ok.as_bytes());
    // In an envelope the schema objects (one per array, plus the item schema) sit one level
    // deeper.
    let inner = "[".repeat(998) + &"]".repeat(998);
    let v = c.to_connect("t", Some(inner.as_bytes())).unwrap().value;
    let schema = (0..997).fold(Schema::array(Schema::optional_string()), |s, _| Schema::array(s));
    let enveloped = JsonConverter::default().from_connect("t", Some(&schema), &v).unwrap().unwrap();
    assert_eq!(JsonConverter::default().to_connect("t", Some(&enveloped)).unwrap().value, v);
}

#[test]
fn conversion_errors() {
    let c = JsonConverter::default();
    let e = c.from_connect("t", Some(&Schema::string()), &Value::Null).unwrap_err();
    assert_eq!(e.message, "Conversion error: null value for field that is required and has no default value");
    let e = c.from_connect("t", Some(&Schema::string()), &Value::Int32(1)).unwrap_err();
    assert_eq!(e.message, "Invalid type for STRING: class java.lang.Integer");
    let e = c.from_connect("t", Some(&Schema::int32()), &Value::Int64(1)).unwrap_err();
    assert_eq!(e.message, "Invalid type for INT32: class java.lang.Long");
    let e = c.to_connect("t", Some(br#"{"schema":{"type":"string","optional":false},"payload":null}"#)).unwrap_err();
    assert_eq!(e.message, "Invalid null value for required STRING field");
    let e = c.to_connect("t", Some(br#"{"schema":{"optional":false},"payload":1}"#)).unwrap_err();
    assert_eq!(e.message, "Schema must contain 'type' field");
    let e = c.to_connect("t", Some(br#"{"schema":{"type":"uuid"},"payload":1}"#)).unwrap_err();
    assert_eq!(e.message, "Unknown schema type: uuid");
    let e = c.to_connect("t", Some(br#"{"schema":{"type":"struct","fields":[]},"payload":[]}"#)).unwrap_err();
    assert_eq!(e.message, "Structs should be encoded as JSON objects, but found ARRAY");
    let e = c
        .to_connect(
            "t",
            Some(br#"{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":{}}"#),
        )
        .unwrap_err();
    assert_eq!(e.message, "Maps with non-string fields should be encoded as JSON array of tuples, but found OBJECT");
    let e = c
        .to_connect(
            "t",
            Some(br#"{"schema":{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp"},"payload":"x"}"#),
        )
        .unwrap_err();
    assert_eq!(e.message, "Invalid type for Timestamp, underlying representation should be integral but was STRING");
}

#[test]
fn lenient_primitive_reads_like_jackson() {
    let c = JsonConverter::default();
    assert_eq!(dec(&c, r#"{"schema":{"type":"int32"},"payload":1.9}"#).value, Value::Int32(1));
    assert_eq!(dec(&c, r#"{"schema":{"type":"int8"},"payload":300}"#).value, Value::Int8(44));
    assert_eq!(dec(&c, r#"{"schema":{"type":"int32"},"payload":"12"}"#).value, Value::Int32(0));
    assert_eq!(dec(&c, r#"{"schema":{"type":"string"},"payload":12}"#).value, Value::Null);
    assert_eq!(dec(&c, r#"{"schema":{"type":"float"},"payload":0.1}"#).value, Value::Float32(0.1));
}

#[test]
fn config_errors() {
    let e = JsonConverter::new(&cfg(&[("schemas.enable", "maybe")])).unwrap_err();
    assert_eq!(
        e.message,
        "Invalid value maybe for configuration schemas.enable: Expected value to be either true or false"
    );
    let e = JsonConverter::new(&cfg(&[("schemas.cache.size", "x")])).unwrap_err();
    assert_eq!(e.message, "Invalid value x for configuration schemas.cache.size: Not a number of type INT");
    let e = JsonConverter::new(&cfg(&[("decimal.format", "hex")])).unwrap_err();
    assert_eq!(
        e.message,
        "Invalid value hex for configuration decimal.format: String must be one of (case insensitive): BASE64, NUMERIC"
    );
    assert!(!JsonConverter::new(&cfg(&[("schemas.enable", " FALSE ")])).unwrap().schemas_enabled());
}

/// Measures the source/sink hot paths (figures in the module docs). Run:
/// `cargo test --release --lib data::json::tests::bench -- --ignored --nocapture`.
#[test]
#[ignore]
fn bench_string_envelope() {
    let c = JsonConverter::default();
    let schema = Schema::string();
    let line = Value::String("a typical FileStreamSource line of some 60 bytes of text....".into());
    let n = 2_000_000;
    let t = std::time::Instant::now();
    let mut total = 0usize;
    for _ in 0..n {
        let b = c.from_connect("t", Some(&schema), std::hint::black_box(&line)).unwrap().unwrap();
        total += b.len();
    }
    let per = t.elapsed().as_nanos() as f64 / n as f64;
    println!("JsonConverter envelope string from_connect: {per:.1} ns/record ({total} bytes)");
    let bytes = c.from_connect("t", Some(&schema), &line).unwrap().unwrap();
    let t = std::time::Instant::now();
    for _ in 0..n {
        let v = c.to_connect("t", Some(std::hint::black_box(&bytes))).unwrap();
        std::hint::black_box(v);
    }
    let per = t.elapsed().as_nanos() as f64 / n as f64;
    println!("JsonConverter envelope string to_connect: {per:.1} ns/record");
    let st =
        Schema::structure(vec![Field::new("content", Schema::string()), Field::new("ts", Schema::timestamp(true))]);
    let sv = Value::Struct(vec![("content".into(), line.clone()), ("ts".into(), Value::Int64(1_700_000_000_000))]);
    let t = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(c.from_connect("t", Some(&st), std::hint::black_box(&sv)).unwrap());
    }
    let per = t.elapsed().as_nanos() as f64 / n as f64;
    println!("JsonConverter envelope struct from_connect: {per:.1} ns/record");
}
