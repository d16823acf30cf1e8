//! `flowlens rules`: the recording rules that roll up a datasource's
//! dashboard questions, printed as the YAML vmalert reads with `-rule=`:
//! `type: vlogs` groups (LogsQL) for VictoriaLogs, `type: prometheus`
//! groups (LogQL) for Loki, asked of Loki's query API
//! (`-datasource.url=<Loki>/loki -rule.validateExpressions=false`).
//!
//! Not the Loki ruler: it is Prometheus' rules manager, which evaluates each
//! group at a phase hashed from its name and file
//! (prometheus `rules/group.go`, `Group.EvalTimestamp`: `base + offset`,
//! `offset = hash % interval`), never on the interval's boundaries, so its
//! points are sums of other windows than the buckets'. vmalert aligns
//! evaluations to the interval (`eval_alignment`, on by default) and
//! replays past intervals (`-replay.timeFrom`), which late records need.
//!
//! Each additive question of the dashboards (variables at "All": a regex
//! filter that is one variable is dropped, as Grafana's `.*` is) becomes two
//! rules: `flowlens_rollup`, the question's sums per interval grouped by its
//! fields, and `flowlens_rollup_evaluated`, the stream's records counted in
//! the same interval, both labelled with the rule's fingerprint
//! (`flowlens::rollups`). The plugin computes the same expressions and
//! fingerprints from the same settings, so it reads exactly these.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use flowlens::datasource::Datasource;
use flowlens::model::{FlowQuery, Request, TimeRange};
use flowlens::rollups::{Rule, EVALUATED, RULE_LABEL, VALUES};

/// What `flowlens rules` is asked for.
pub struct Options {
    /// Dashboard JSON files or folders of them.
    pub dashboards: Vec<PathBuf>,
    /// The rules' intervals in ms, finest first (the settings'
    /// `rollups.resolution` unless given): a group each.
    pub resolutions_ms: Option<Vec<i64>>,
    /// Also questions grouped by ports (many more series), at the coarsest
    /// resolution only.
    pub ports: bool,
    /// The group's `eval_delay` in ms: how late flow records arrive.
    pub delay_ms: i64,
}

#[derive(Serialize)]
struct File {
    groups: Vec<Group>,
}

#[derive(Serialize)]
struct Group {
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    interval: String,
    eval_delay: String,
    concurrency: u32,
    rules: Vec<RuleYaml>,
}

#[derive(Serialize)]
struct RuleYaml {
    record: &'static str,
    expr: String,
    labels: std::collections::BTreeMap<&'static str, String>,
}

/// The rules of the dashboards' questions for `ds`, as YAML, with a comment
/// per question (its panel) and per question left out (why).
pub fn render(ds: &Datasource, opts: &Options) -> Result<String, String> {
    let resolutions = opts
        .resolutions_ms
        .clone()
        .or(flowlens::rollups::RollupSettings::of(&ds.settings).ok().flatten().map(|r| r.resolutions_ms))
        .unwrap_or(vec![flowlens::rollups::settings::DEFAULT_RESOLUTION_MS]);
    let coarsest = *resolutions.last().ok_or("no resolution")?;
    let probe = FlowQuery::probe(TimeRange { from_ms: 0, to_ms: 1 });
    if ds.backend().rule_expr(&ds.target(), &probe, coarsest).is_none() {
        return Err(format!("{} has no rule engine flowlens writes rules for yet", ds.backend().product()));
    }
    let loki = ds.settings.backend == "loki";
    let names: Vec<String> = resolutions.iter().map(|r| flowlens::time::duration(*r)).collect();
    let mut comments = vec![format!(
        "# flowlens rules: {} rollups of every additive dashboard question{} (eval_delay covers flow-log delivery).",
        names.join(" and "),
        if opts.ports && resolutions.len() > 1 { ", by ports at the coarsest only" } else { "" }
    )];
    if loki {
        comments.push(
            "# For vmalert asking Loki: -datasource.url=<Loki URL>/loki -rule.validateExpressions=false \
             (the expressions are LogQL). Not for the Loki ruler: it evaluates off the interval boundaries."
                .into(),
        );
    }
    if ds.settings.nat_addresses.is_none() && !ds.settings.inside.is_empty() {
        comments.push(
            "# natAddresses is not set: rules assume no address of the interface lies in insideCidrs; \
             set natAddresses so the plugin and the rules agree"
                .into(),
        );
    }
    let mut seen = BTreeSet::new();
    let mut groups: Vec<Vec<RuleYaml>> = resolutions.iter().map(|_| Vec::new()).collect();
    for (panel, target) in targets(&opts.dashboards)? {
        let question = match question(ds, &target) {
            Ok(q) => q,
            Err(why) => {
                comments.push(format!("# left out: {panel}: {why}"));
                continue;
            }
        };
        let by_ports = question.group_by.iter().any(|f| f.ends_with("port"));
        if !opts.ports && by_ports {
            comments.push(format!("# left out: {panel}: grouped by ports (--ports adds it)"));
            continue;
        }
        let canonical = flowlens::reuse::canonical(&question);
        let mut fingerprints = Vec::new();
        for (i, resolution_ms) in resolutions.iter().enumerate() {
            if by_ports && *resolution_ms != coarsest {
                continue;
            }
            let Some(rule) = flowlens::rollups::rule(ds.backend(), &ds.target(), &canonical, *resolution_ms) else {
                continue;
            };
            fingerprints.push(format!("{} ({})", rule.fingerprint, flowlens::time::duration(*resolution_ms)));
            if seen.insert(rule.fingerprint.clone()) {
                groups[i].extend(yaml(&rule));
            }
        }
        if fingerprints.is_empty() {
            comments.push(format!("# left out: {panel}: not a sum of record fields by label-named fields"));
        } else {
            comments.push(format!("# {}: {panel}", fingerprints.join(", ")));
        }
    }
    let file = File {
        groups: resolutions
            .iter()
            .zip(groups)
            .filter(|(_, rules)| !rules.is_empty())
            .map(|(resolution_ms, rules)| Group {
                name: format!("flowlens-{}", flowlens::time::duration(*resolution_ms)),
                kind: if loki { "prometheus" } else { "vlogs" },
                interval: flowlens::time::duration(*resolution_ms),
                eval_delay: flowlens::time::duration(opts.delay_ms),
                // In order: a value rule is evaluated before its evaluation mark.
                concurrency: 1,
                rules,
            })
            .collect(),
    };
    let body = serde_norway::to_string(&file).map_err(|e| e.to_string())?;
    Ok(format!("{}\n{body}", comments.join("\n")))
}

/// A rule as its two recording rules.
fn yaml(rule: &Rule) -> [RuleYaml; 2] {
    let labels = || std::collections::BTreeMap::from([(RULE_LABEL, rule.fingerprint.clone())]);
    [
        RuleYaml { record: VALUES, expr: rule.expr.clone(), labels: labels() },
        RuleYaml { record: EVALUATED, expr: rule.evaluated.clone(), labels: labels() },
    ]
}

/// A dashboard target as the question it asks with every variable at All.
fn question(ds: &Datasource, target: &serde_json::Value) -> Result<FlowQuery, String> {
    let mut target = target.clone();
    if let Some(filters) = target.get_mut("filters").and_then(|f| f.as_array_mut()) {
        for f in filters.iter_mut() {
            let is_variable = f["value"].as_str().is_some_and(|v| {
                let name = v.trim_start_matches('$').trim_start_matches('{').trim_end_matches('}');
                v.starts_with('$') && !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
            });
            if f["op"] == "=~" && is_variable {
                f["value"] = ".*".into();
            }
        }
    }
    let text = target.to_string();
    if text.contains('$') {
        return Err("a template variable other than a regex filter at All".into());
    }
    let req = Request { range: TimeRange { from_ms: 0, to_ms: 86_400_000 }, interval_ms: 60_000, max_data_points: 0 };
    let q = FlowQuery::parse(text.as_bytes(), &req, &ds.settings).map_err(|e| e.message)?;
    // A question of names is asked about addresses: that is what is rolled up.
    let q = match flowlens::names::regroup::ask(&q, ds.names.resolution_ms()).map_err(|e| e.message)? {
        Some(asked) => asked.inner,
        None => q,
    };
    if !flowlens::rollups::eligible(&q) || matches!(q.format, flowlens::model::Format::Logs) {
        return Err("not an additive question (logs, distinct counts, hand-written queries)".into());
    }
    Ok(q)
}

/// Every panel target of the dashboards: (panel title, target).
fn targets(paths: &[PathBuf]) -> Result<Vec<(String, serde_json::Value)>, String> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut inside: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("{}: {e}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            inside.sort();
            files.extend(inside);
        } else {
            files.push(path.clone());
        }
    }
    let mut out = Vec::new();
    for file in files {
        let dashboard = read(&file)?;
        let title = dashboard["title"].as_str().unwrap_or("").to_string();
        for panel in dashboard["panels"].as_array().into_iter().flatten() {
            for target in panel["targets"].as_array().into_iter().flatten() {
                let name = format!("{title} / {}", panel["title"].as_str().unwrap_or(""));
                out.push((name, target.clone()));
            }
        }
    }
    Ok(out)
}

fn read(file: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    serde_json::from_slice(&text).map_err(|e| format!("{}: not JSON: {e}", file.display()))
}
