//! The frames stage's unit tests.

use super::*;
use crate::model::{Request, TimeRange};
use crate::plan::{Step, StepOutput};
use crate::settings::InstanceSettings;

fn settings(json: &str) -> Settings {
    Settings::from_instance(&InstanceSettings {
        url: "http://127.0.0.1:9428",
        json_data: json.as_bytes(),
        ..Default::default()
    })
    .unwrap()
}

fn query(json: &str, s: &Settings) -> FlowQuery {
    let req = Request { range: TimeRange { from_ms: 0, to_ms: 3_600_000 }, interval_ms: 60_000, max_data_points: 0 };
    FlowQuery::parse(json.as_bytes(), &req, s).unwrap()
}

/// A stat and a ranked table of bytes, and a stat of `metric: cost`, as
/// frames under the settings.
fn frames(s: &Settings) -> Vec<Vec<Frame>> {
    let stat = query(r#"{"format":"stat","direction":"all"}"#, s);
    let table = query(r#"{"format":"table","direction":"all","groupBy":["dstport"],"limit":2,"other":true}"#, s);
    let cost = query(r#"{"format":"stat","direction":"all","metric":"cost"}"#, s);
    let ranked = vec![(vec!["443".to_string()], 7_000_000_000), (vec!["53".to_string()], 1_000_000_000)];
    let table_answers = Answers::of([
        (Step::Rank { limit: 2 }, StepOutput::Ranked(ranked)),
        (Step::Total, StepOutput::Total(9_000_000_000)),
    ])
    .unwrap();
    let total = || Answers::of([(Step::Total, StepOutput::Total(3_000_000_000))]).unwrap();
    vec![
        shape(&stat, s, total(), "").unwrap(),
        shape(&table, s, table_answers, "").unwrap(),
        shape(&cost, s, total(), "").unwrap(),
    ]
}

fn cost_column(frame: &Frame) -> Option<&Values> {
    frame.fields.iter().find(|f| f.name == "cost").map(|f| &f.values)
}

#[test]
fn series_read_their_answers_by_question_not_by_order() {
    let s = settings("{}");
    let q = query(r#"{"format":"series","direction":"all","groupBy":["dstport"],"limit":1,"other":true}"#, &s);
    let key = vec!["443".to_string()];
    let ranked = (Step::Rank { limit: 1 }, StepOutput::Ranked(vec![(key.clone(), 10)]));
    let grouped = (
        Step::Buckets { grouped: true, keys: Some(vec![key.clone()]) },
        StepOutput::Buckets(BTreeMap::from([(key, BTreeMap::from([(0, 4), (60_000, 6)]))])),
    );
    let totals = (
        Step::Buckets { grouped: false, keys: None },
        StepOutput::Buckets(BTreeMap::from([(Vec::new(), BTreeMap::from([(0, 5), (60_000, 9)]))])),
    );
    let in_order = shape(&q, &s, Answers::of([ranked.clone(), grouped.clone(), totals.clone()]).unwrap(), "");
    let other_order = shape(&q, &s, Answers::of([totals.clone(), ranked.clone(), grouped.clone()]).unwrap(), "");
    let frames = in_order.unwrap();
    assert_eq!(Ok(frames.clone()), other_order);
    assert_eq!(frames.len(), 2);
    // `other` is the total's buckets minus the top group's.
    assert_eq!(frames[1].fields[1].values.len(), 60);
    let Values::U64(other) = &frames[1].fields[1].values else { panic!("{:?}", frames[1]) };
    assert_eq!(&other[..2], &[Some(1), Some(3)]);
    // A missing answer is an error naming it, not a different frame.
    let e = shape(&q, &s, Answers::of([ranked.clone(), totals.clone()]).unwrap(), "").unwrap_err();
    assert!(e.message.contains("the ranked groups' buckets was not answered"), "{e}");
    // An answer of the wrong kind, or twice, is refused.
    assert!(Answers::of([(Step::Total, StepOutput::Ranked(Vec::new()))]).is_err());
    assert!(Answers::of([totals.clone(), totals]).is_err());
    // An answer the panel does not use is an error too.
    let extra = Answers::of([ranked, grouped, (Step::Total, StepOutput::Total(1))]).unwrap();
    assert!(shape(&q, &s, extra, "").unwrap_err().message.contains("does not use"));
}

#[test]
fn cost_per_gb_migrates_to_the_cost_column_at_the_nat_price() {
    // Saved before: `costPerGb` priced the cost column; `metric: cost`
    // used `natPricePerGb` (default 0.045).
    let saved = frames(&settings(r#"{"costPerGb":0.05}"#));
    // What the settings page writes now for it.
    let migrated = frames(&settings(r#"{"costColumn":true,"natPricePerGb":0.05}"#));
    assert_eq!(saved, migrated);
    // The column as `costPerGb` priced it: bytes / 10^9 * price.
    assert_eq!(cost_column(&saved[0][0]), Some(&Values::F64(vec![Some(3.0 * 0.05)])));
    assert_eq!(
        cost_column(&saved[1][0]),
        Some(&Values::F64(vec![Some(7.0 * 0.05), Some(1.0 * 0.05), Some(1.0 * 0.05)]))
    );
    // Both set: natPricePerGb is the one NAT price, for the column too.
    let both = frames(&settings(r#"{"costPerGb":0.05,"natPricePerGb":0.048}"#));
    assert_eq!(cost_column(&both[0][0]), Some(&Values::F64(vec![Some(3.0 * 0.048)])));
    assert_eq!(both, frames(&settings(r#"{"costColumn":true,"natPricePerGb":0.048}"#)));
    // Switched off explicitly, the old key no longer adds it.
    let off = frames(&settings(r#"{"costPerGb":0.05,"costColumn":false}"#));
    assert_eq!(cost_column(&off[0][0]), None);
    // Neither: no column, `metric: cost` at the default NAT price.
    let none = frames(&settings("{}"));
    assert_eq!(cost_column(&none[0][0]), None);
    assert_eq!(none[2][0].fields[0].values, Values::F64(vec![Some(3.0 * 0.045)]));
}
