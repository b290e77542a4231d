//! What the command line prints: verdicts, the matrix summary, the ready line of `up`,
//! and clap's errors on one line.

use std::io::Write;

use crate::commands::run::RunOutcome;
use crate::results::{MatrixSummary, ReadyInfo};

/// clap's error on one line: the first line names the flag and the bad value; a missing
/// required flag is named on the lines that follow, so those are joined on.
pub fn clap_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    let mut parts: Vec<&str> = Vec::new();
    for line in rendered.lines().map(str::trim) {
        if line.is_empty() || line.starts_with("Usage:") || line.starts_with("For more") {
            break;
        }
        parts.push(line);
    }
    if parts.is_empty() {
        "error: bad arguments".into()
    } else {
        parts.join(" ")
    }
}

/// The verdict on stdout: the results as JSON, the last line only, or the tables.
pub fn outcome(outcome: &RunOutcome, quiet: bool, json: bool) -> std::io::Result<()> {
    let r = &outcome.results;
    let mut out = std::io::stdout().lock();
    if let (Some(s), false) = (&r.shard, json) {
        // A shard scores nothing: say what it recorded and how the whole is scored.
        let run_dir = outcome.dir.parent().unwrap_or(&outcome.dir);
        return writeln!(
            out,
            "shard {}/{} of {}: {} requests recorded, not scored\nresults: {}\nscore the whole: harness merge {}",
            s.index,
            s.count,
            r.run_id,
            r.totals.requests,
            outcome.dir.join("results.json").display(),
            run_dir.display()
        );
    }
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(r).unwrap_or_default()
        )?;
    } else if quiet {
        let table = crate::report::table::render(r);
        if let Some(l) = table.lines().last() {
            writeln!(out, "{l}")?;
        }
    } else {
        if !r.phases.is_empty() {
            write!(out, "{}", crate::commands::chaos::report::phases::render(r))?;
        }
        if let Some(a) = r.chaos.as_ref().and_then(|c| c.alerts.as_ref()) {
            write!(out, "{}", crate::commands::chaos::report::alerts::render(a))?;
        }
        write!(out, "{}", crate::report::table::render(r))?;
        writeln!(
            out,
            "report:  {}\nresults: {}",
            outcome.dir.join("report.html").display(),
            outcome.dir.join("results.json").display()
        )?;
    }
    Ok(())
}

/// The matrix summary, as JSON or as a table.
pub fn matrix(summary: &MatrixSummary, json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(summary).unwrap_or_default()
        )
    } else {
        write!(
            out,
            "{}",
            crate::commands::chaos::report::matrix::render(summary)
        )
    }
}

/// `harness up`'s ready line: one JSON object, or text for people.
pub fn ready(info: &ReadyInfo, json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string(info).unwrap_or_default())?;
    } else {
        write!(out, "{}", ready_text(info))?;
    }
    out.flush()
}

/// What `harness up` prints for people once the environment is ready.
pub fn ready_text(info: &ReadyInfo) -> String {
    let alerts = match (&info.prometheus_url, &info.alertmanager_url) {
        (Some(p), Some(a)) => format!(
            "alerts (the seeds' rules, fixtures/alerts):\n\
             \x20 prometheus   {p}\n\
             \x20 alertmanager {a}\n"
        ),
        _ => String::new(),
    };
    let text = format!(
        "environment ready ({} backend, session {})\n\
         \x20 postgres   {}\n\
         \x20 redis      {}\n\
         \x20 llm        {}\n\
         \x20 toxiproxy  {}\n\
         direct (no faults):\n\
         \x20 postgres   {}\n\
         \x20 redis      {}\n\
         \x20 llm        {}\n\
         press Ctrl-C to stop\n",
        info.backend,
        info.session,
        info.postgres_url,
        info.redis_url,
        info.llm_url,
        info.toxiproxy_url,
        info.direct.postgres_url,
        info.direct.redis_url,
        info.direct.llm_url,
    );
    // The alert components sit before the closing line.
    match text.rfind("press Ctrl-C") {
        Some(i) => format!("{}{alerts}{}", &text[..i], &text[i..]),
        None => text,
    }
}

/// One finished capacity probe, for the terminal.
pub fn capacity_step(s: &crate::results::CapacityStep) -> String {
    format!(
        "harness capacity: load {} (repeat {}): {:.1}/s, goodput {:.1}/s, p95 {:.0} ms, errors {:.2}%, {}",
        s.load,
        s.repeat,
        s.throughput_rps,
        s.goodput_rps,
        s.p95_ms,
        s.error_rate * 100.0,
        if s.passed {
            "budgets met".to_owned()
        } else {
            format!("missed {}", s.failed.join(", "))
        }
    )
}

/// The capacity on stdout: capacity.json, or the headline and where the files are.
pub fn capacity(
    c: &crate::results::Capacity,
    dir: &std::path::Path,
    json: bool,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        return writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(c).unwrap_or_default()
        );
    }
    writeln!(out, "{}", crate::commands::capacity::report::headline(c))?;
    writeln!(out, "reports: {}/capacity.html", dir.display())
}
