//! The Loki client's unit tests.

use super::super::answer::parse_answer;
use super::*;

#[test]
fn answers_parse_as_documented() {
    let vector = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"k":"a"},"value":[1795219200,"42"]}],"stats":{}}}"#;
    let Answer::Series(s) = parse_answer(vector).unwrap() else { panic!() };
    assert_eq!(s[0].points, vec![(1_795_219_200_000, 42.0)]);
    assert_eq!(s[0].labels["k"], "a");
    let matrix = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1795219199.999,"1"],[1795219499.999,"2"]]}]}}"#;
    let Answer::Series(s) = parse_answer(matrix).unwrap() else { panic!() };
    assert_eq!(s[0].points, vec![(1_795_219_199_999, 1.0), (1_795_219_499_999, 2.0)]);
    let streams = br#"{"status":"success","data":{"resultType":"streams","result":[{"stream":{"a":"b"},"values":[["1795219200000000001","line",{"structuredMetadata":{}}]]}]}}"#;
    let Answer::Streams(s) = parse_answer(streams).unwrap() else { panic!() };
    assert_eq!(s[0].entries, vec![(1_795_219_200_000_000_001, "line".to_string())]);
    let series = br#"{"status":"success","data":[{"logtype":"flow","environment":"ops"}]}"#;
    let Answer::Streams(s) = parse_answer(series).unwrap() else { panic!() };
    assert_eq!((s[0].labels["logtype"].as_str(), s[0].entries.len()), ("flow", 0));
    assert!(parse_answer(b"too many outstanding requests").is_err());
    assert!(parse_answer(br#"{"status":"error","data":null}"#).is_err());
    assert!(parse_answer(br#"{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}"#).is_err());
}

#[test]
fn line_fields_are_read() {
    assert_eq!(
        json_fields(r#"{"bytes": 10, "a": {"b": "c"}, "n": null}"#),
        BTreeMap::from([("bytes".into(), "10".into()), ("a.b".into(), "c".into())])
    );
    assert_eq!(
        logfmt_fields(r#"bytes=10 action="AC \"CE\" PT" empty= flag"#),
        BTreeMap::from([
            ("bytes".into(), "10".into()),
            ("action".into(), "AC \"CE\" PT".into()),
            ("empty".into(), String::new()),
            ("flag".into(), String::new()),
        ])
    );
}
