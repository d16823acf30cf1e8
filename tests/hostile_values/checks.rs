//! One generated case checked: the query text's structure (a hostile
//! value changes only its own literal), then the answer, in process or
//! through the plugin binary, against the oracle.

use std::sync::atomic::{AtomicUsize, Ordering};

use flowlens::datasource::Datasource;
use flowlens::model::FlowQuery;
use flowlens::plan::{first_step, Step};

use crate::common::harness::{Instance, Plugin};
use crate::common::hostile::json_inner;
use crate::oracle::{anchored, expected, observed, simple, Buckets, Case, Fixture, Simple, Spec};
use crate::{request, FROM_MS, INTERVAL_MS, MAX_QUERY_LEN, TO_MS};

/// The longest query text the case needs (first step, and the per-key
/// buckets of a grouped series with the expected keys).
pub fn longest_query(case: &Case, ds: &Datasource, q: &FlowQuery, want: &Buckets) -> usize {
    let mut len = ds.render_step(q, &first_step(q)).len();
    if case.format == "series" && !case.group_by.is_empty() && !want.is_empty() {
        let keys = Some(want.keys().cloned().collect());
        len = len.max(ds.render_step(q, &Step::Buckets { grouped: true, keys }).len());
    }
    len
}

/// Checks that a hostile value never changes a query's structure: the text
/// equals the text for plain placeholders with only the literals swapped
/// (JSON escaping is compositional, so a value inside a longer literal, such
/// as an anchored regex, is swapped the same way). Group keys are values
/// too: the per-key buckets step is rendered with the values as keys.
pub fn check_structure(case: &Case, ds: &Datasource) -> Result<(), String> {
    let (plain, actual) = case.placeholders();
    // "No value" is the one documented value-dependent form: asking for ""
    // or `-` asks for both spellings, and a regex that matches one of them
    // but not the other gets the other added or excluded (ARCHITECTURE.md).
    let no_value = |v: &str| v.is_empty() || v == "-";
    let regex_splits = |re: &str| anchored(re).is_match("") != anchored(re).is_match("-");
    let value_dependent = case.filters.iter().any(|f| match f {
        Spec::Text { op: "=" | "!=", value, .. } => no_value(value),
        Spec::Text { op: "=~" | "!~", value, .. } => value != ".*" && regex_splits(value),
        _ => false,
    }) || actual.iter().take(case.group_by.len()).any(|v| no_value(v))
        || case.interface_id.as_deref().is_some_and(|id| id.trim() == "-");
    if value_dependent {
        return Ok(());
    }
    let parse = |c: &Case| FlowQuery::parse(&serde_json::to_vec(&c.target()).unwrap(), &request(), &ds.settings);
    let (q, p) = (parse(case).map_err(|e| e.message)?, parse(&plain).map_err(|e| e.message)?);
    let placeholder = regex::Regex::new("PH([0-9]+)Z").unwrap();
    let swap = |s: &str| {
        placeholder
            .replace_all(s, |c: &regex::Captures| json_inner(&actual[c[1].parse::<usize>().unwrap()]))
            .to_string()
    };
    let mut steps = vec![(first_step(&q), first_step(&p))];
    let n = q.group_by.len();
    if n > 0 && actual.len() >= n {
        let keys = vec![actual[..n].to_vec()];
        let ph_keys = vec![(0..n).map(|i| format!("PH{i}Z")).collect()];
        steps.push((
            Step::Buckets { grouped: true, keys: Some(keys) },
            Step::Buckets { grouped: true, keys: Some(ph_keys) },
        ));
    }
    for (step, ph_step) in steps {
        let got = ds.render_step(&q, &step);
        let want = swap(&ds.render_step(&p, &ph_step));
        if got != want {
            return Err(format!("a value changed the query's structure:\n{got}\n-- expected --\n{want}"));
        }
    }
    Ok(())
}

/// Tallies, to show the cases were not vacuous.
#[derive(Default)]
pub struct Tally {
    cases: AtomicUsize,
    with_matches: AtomicUsize,
    without_matches: AtomicUsize,
    too_long: AtomicUsize,
}

impl Tally {
    pub fn count(&self, want: &Buckets, too_long: bool) {
        self.cases.fetch_add(1, Ordering::Relaxed);
        let any = want.values().any(|b| !b.is_empty());
        let counter = if too_long {
            &self.too_long
        } else if any {
            &self.with_matches
        } else {
            &self.without_matches
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn report(&self, what: &str) -> (usize, usize, usize) {
        let (c, w, wo, tl) = (
            self.cases.load(Ordering::Relaxed),
            self.with_matches.load(Ordering::Relaxed),
            self.without_matches.load(Ordering::Relaxed),
            self.too_long.load(Ordering::Relaxed),
        );
        eprintln!(
            "{what}: {c} cases, {w} with matching records, {wo} with none, {tl} over VictoriaLogs' query length limit"
        );
        (c, w, wo)
    }
}

/// Runs one case in process and compares with the oracle.
pub async fn check_in_process(case: &Case, fx: &Fixture, tally: &Tally) -> Result<(), String> {
    let (json_data, ds) = &fx.datasources[case.variant];
    let target = case.target();
    let what = format!("target {target}\nsettings {json_data}");
    let q = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings)
        .map_err(|e| format!("{what}: the model rejected a valid target: {}", e.message))?;
    if fx.fields_mode {
        check_structure(case, ds).map_err(|e| format!("{what}: {e}"))?;
    }
    let want = expected(case, fx);
    let too_long = longest_query(case, ds, &q, &want) > MAX_QUERY_LEN - 200;
    tally.count(&want, too_long);
    match ds.query(&q).await {
        Ok(frames) => {
            let frames: Vec<Simple> = frames.iter().map(simple).collect();
            let got = observed(case, fx, &frames).map_err(|e| format!("{what}: {e}"))?;
            if got != want {
                return Err(format!("{what}\nexecuted: {}\ngot  {got:?}\nwant {want:?}", ds.render(&q).join("\n")));
            }
            Ok(())
        }
        // The only acceptable failure: VictoriaLogs' own query length limit,
        // reported as its rejection with its text.
        Err(e) if too_long && e.message.contains("maxQueryLen") && e.status == 400 => Ok(()),
        Err(e) => Err(format!(
            "{what}\nexecuted: {}\nVictoriaLogs did not accept it: {}",
            ds.render(&q).join("\n"),
            e.message
        )),
    }
}

/// Runs one case through the plugin binary and compares with the oracle.
pub async fn check_grpc(case: &Case, fx: &Fixture, plugin: &Plugin, url: &str) -> Result<(), String> {
    let (json_data, ds) = &fx.datasources[case.variant];
    let target = case.target();
    let q = FlowQuery::parse(&serde_json::to_vec(&target).unwrap(), &request(), &ds.settings).unwrap();
    let want = expected(case, fx);
    let too_long = longest_query(case, ds, &q, &want) > MAX_QUERY_LEN - 200;
    let instance =
        Instance { url: url.into(), uid: "hostile".into(), json_data: json_data.clone(), ..Default::default() };
    let mut answers = plugin.query(&instance, (FROM_MS, TO_MS), INTERVAL_MS, std::slice::from_ref(&target)).await;
    let answer = answers.remove("H").ok_or("no answer for refId H")?;
    if !answer.error.is_empty() {
        if too_long && answer.error.contains("maxQueryLen") {
            return Ok(());
        }
        return Err(format!("target {target}: {}", answer.error));
    }
    let frames: Vec<Simple> = answer
        .frames
        .iter()
        .map(|f| Simple {
            fields: f.fields.iter().map(|x| (x.name.clone(), x.labels.clone(), x.values.clone())).collect(),
        })
        .collect();
    let got = observed(case, fx, &frames)?;
    if got != want {
        return Err(format!("over gRPC, target {target}\ngot  {got:?}\nwant {want:?}"));
    }
    Ok(())
}
