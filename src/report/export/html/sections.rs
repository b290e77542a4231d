//! The page's text sections: verdict, phases, budgets, environment, scenario, command.

use std::fmt::Write;

use super::escape;
use crate::report::export::value;
use crate::results::{Results, Status, Unit};

fn ms(us: u64) -> String {
    value(Unit::Ms, us as f64 / 1000.0)
}

/// The verdict banner: PASS or FAIL, what failed, and the run in one line.
pub fn verdict(h: &mut String, r: &Results) {
    let (class, word) = if r.verdict.passed {
        ("pass", "PASS")
    } else {
        ("fail", "FAIL")
    };
    let _ = writeln!(h, "<header class=\"verdict {class}\" id=\"verdict\">");
    let _ = writeln!(
        h,
        "<h1>{word}: {} / {}</h1>",
        escape(&r.scenario.name),
        escape(&r.scenario.profile)
    );
    if r.verdict.passed {
        let _ = writeln!(h, "<p>Every applicable budget and expectation was met.</p>");
    } else {
        let failed: Vec<String> = r
            .verdict
            .failed
            .iter()
            .map(|f| format!("<code>{}</code>", escape(f)))
            .collect();
        let _ = writeln!(h, "<p>Not met: {}</p>", failed.join(", "));
    }
    let _ = writeln!(
        h,
        "<p>{} users · {:.0} s · {} transactions · {:.1}/s · errors {:.2}% · p50 {} · p95 {} · p99 {}</p>",
        r.scenario.users,
        r.duration_s,
        r.totals.requests,
        r.totals.throughput_rps,
        r.totals.error_rate * 100.0,
        ms(r.overall.p50_us),
        ms(r.overall.p95_us),
        ms(r.overall.p99_us)
    );
    if let Some(c) = &r.chaos {
        let ttr = c
            .time_to_recover_s
            .map_or_else(|| "not recovered".into(), |t| format!("{t:.0} s"));
        let _ = writeln!(
            h,
            "<p>Faults: {} · time to recover: {ttr}</p>",
            escape(&c.faults.join(", "))
        );
    }
    let _ = writeln!(
        h,
        "<p>Run <code>{}</code>, started {}</p>\n</header>",
        escape(&r.run_id),
        escape(&r.started_at)
    );
}

/// A chaos run's phases side by side.
pub fn phases(h: &mut String, r: &Results) {
    let _ = writeln!(h, "<section id=\"phases\">\n<h2>Phases</h2>\n<table>");
    let _ = writeln!(
        h,
        "<tr><th>phase</th><th>seconds</th><th>faults</th><th class=\"num\">transactions</th>\
         <th class=\"num\">p50</th><th class=\"num\">p95</th><th class=\"num\">p99</th>\
         <th class=\"num\">errors</th><th class=\"num\">fallback</th><th class=\"num\">LLM calls</th></tr>"
    );
    for p in &r.phases {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{:.0}–{:.0}</td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{:.1}%</td><td class=\"num\">{:.1}%</td><td class=\"num\">{}</td></tr>",
            escape(p.name.as_str()),
            p.start_s,
            p.end_s,
            escape(&p.faults.join(", ")),
            p.requests,
            ms(p.latency.p50_us),
            ms(p.latency.p95_us),
            ms(p.latency.p99_us),
            p.error_rate * 100.0,
            p.fallback_rate * 100.0,
            p.llm_calls
        );
    }
    let _ = writeln!(h, "</table>\n</section>");
}

/// A chaos run's alerts: each expected or seen, with its times, and how they were
/// obtained.
pub fn alerts(h: &mut String, a: &crate::results::AlertsInfo) {
    use crate::results::AlertRole;
    let _ = writeln!(
        h,
        "<section id=\"alerts\">\n<h2>Alerts</h2>\n<p>{} Rules with {}.</p>\n<table>",
        escape(&a.method),
        escape(&a.windows)
    );
    let _ = writeln!(
        h,
        "<tr><th>alert</th><th>role</th><th>fired (s)</th><th class=\"num\">detect</th>\
         <th class=\"num\">clear</th><th>seed</th></tr>"
    );
    if let Some(why) = &a.unscraped {
        let _ = writeln!(
            h,
            "<tr class=\"fail\"><td colspan=\"6\">{}</td></tr>",
            escape(why)
        );
    }
    let secs = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |t| format!("{t:.1} s"));
    for s in &a.scores {
        let row = match s.role {
            AlertRole::Unexpected => " class=\"fail\"",
            _ => "",
        };
        let _ = writeln!(
            h,
            "<tr{row}><td><code>{}</code></td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&s.alert),
            s.role.word(),
            s.firings(),
            secs(s.detect_s),
            secs(s.clear_s),
            escape(&s.seed)
        );
    }
    let _ = writeln!(h, "</table>\n</section>");
}

/// Every budget and expectation with its measured value, limit and seed reference.
pub fn budgets(h: &mut String, r: &Results) {
    let _ = writeln!(
        h,
        "<section id=\"budgets-table\">\n<h2>Budgets and expectations</h2>\n<table>"
    );
    let _ = writeln!(
        h,
        "<tr><th></th><th>name</th><th class=\"num\">measured</th><th class=\"num\">limit</th>\
         <th class=\"num\">margin</th><th>seed</th><th>detail</th></tr>"
    );
    for b in &r.budgets {
        let (row, badge) = match b.status {
            Status::Pass => ("", "<span class=\"badge pass\">pass</span>"),
            Status::Fail => (" class=\"fail\"", "<span class=\"badge fail\">FAIL</span>"),
            Status::NotApplicable => ("", "<span class=\"badge na\">n/a</span>"),
        };
        let _ = writeln!(
            h,
            "<tr{row}><td>{badge}</td><td><code>{}</code></td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td></tr>",
            breakable(&b.name),
            b.measured.map_or_else(|| "–".into(), |m| value(b.unit, m)),
            value(b.unit, b.limit),
            b.margin
                .map_or_else(|| "–".into(), |m| format!("{:+.0}%", m * 100.0)),
            escape(&b.seed),
            escape(&b.detail)
        );
    }
    let _ = writeln!(h, "</table>\n</section>");
}

/// A dotted budget name that may wrap after its dots, never inside a word.
fn breakable(name: &str) -> String {
    escape(name).replace('.', ".<wbr>")
}

fn item(h: &mut String, term: &str, desc: &str) {
    let _ = writeln!(h, "<dt>{}</dt><dd>{}</dd>", escape(term), escape(desc));
}

/// Where it ran: commit, versions, backend, target, machine.
pub fn environment(h: &mut String, r: &Results) {
    let m = &r.machine;
    let _ = writeln!(
        h,
        "<section id=\"environment\">\n<h2>Environment</h2>\n<dl>"
    );
    item(h, "git sha", m.git_sha.as_deref().unwrap_or("unknown"));
    item(h, "harness", &r.harness_version);
    for (name, v) in m.versions.iter().filter(|(n, _)| *n != "harness") {
        item(h, name, v);
    }
    item(
        h,
        "backend",
        r.target.backend.as_deref().unwrap_or("none (--sut-url)"),
    );
    item(
        h,
        "target",
        &format!("{} at {}", r.target.kind, r.target.url),
    );
    if let Some(c) = &r.target.command {
        item(h, "SUT command", c);
    }
    item(h, "cores", &m.cores.to_string());
    item(
        h,
        "memory",
        &format!("{:.1} GiB", m.memory_bytes as f64 / (1u64 << 30) as f64),
    );
    item(h, "os", &m.os);
    item(h, "coordinated omission", &r.coordinated_omission);
    if let Some(l) = crate::report::table::load_summary(r) {
        item(h, "load", &l);
    }
    let _ = writeln!(h, "</dl>\n</section>");
}

/// The scenario and profile as run.
pub fn scenario(h: &mut String, r: &Results) {
    let s = &r.scenario;
    let _ = writeln!(h, "<section id=\"scenario\">\n<h2>Scenario</h2>\n<dl>");
    item(h, "scenario", &format!("{} ({})", s.name, s.file));
    item(h, "profile", &s.profile);
    item(h, "users", &s.users.to_string());
    let stages: Vec<String> = s
        .stages
        .iter()
        .map(|st| match st.rate {
            Some(rate) => format!(
                "{rate} requests/s: ramp {:.0} s, hold {:.0} s",
                st.ramp_s, st.hold_s
            ),
            None => format!(
                "{} users: ramp {:.0} s, hold {:.0} s",
                st.users, st.ramp_s, st.hold_s
            ),
        })
        .collect();
    item(h, "stages", &stages.join("; "));
    item(h, "warm-up", &format!("{:.0} s, not scored", r.warmup_s));
    item(
        h,
        "think time",
        &format!("{}–{} ms", s.think_time_ms.0, s.think_time_ms.1),
    );
    item(h, "LLM fake profile", &s.llm_profile);
    let mix: Vec<String> = s.mix.iter().map(|(n, w)| format!("{n} {w}")).collect();
    item(h, "mix", &mix.join(", "));
    let _ = writeln!(h, "</dl>\n</section>");
}

/// A word as a POSIX shell would need it quoted.
fn shell_word(w: &str) -> String {
    let plain = !w.is_empty()
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
    if plain {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// The command that reproduces the run, at the commit it ran from.
pub fn command(h: &mut String, r: &Results) {
    let cmd: Vec<String> = r.command.iter().map(|w| shell_word(w)).collect();
    let _ = writeln!(h, "<section id=\"command\">\n<h2>Reproduce</h2>");
    if let Some(sha) = &r.machine.git_sha {
        let _ = writeln!(h, "<p>From a checkout of <code>{}</code>:</p>", escape(sha));
    }
    let _ = writeln!(
        h,
        "<pre><code>{}</code></pre>\n</section>",
        escape(&cmd.join(" "))
    );
}

#[cfg(test)]
mod tests {
    use super::shell_word;

    #[test]
    fn words_are_quoted_only_when_a_shell_needs_it() {
        assert_eq!(shell_word("--llm-fail"), "--llm-fail");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
