use std::time::Duration;

use super::*;
use crate::api::{validate, AnswerStyle};

fn answer(tokens: u64, prefill_ms: u64, decode_ms: u64) -> Answer {
    let request = validate(
        br#"{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"a b c"}]}"#,
    )
    .expect("valid");
    Answer {
        id: "msg_1".into(),
        text: api::answer_text(AnswerStyle::Grounded, &request, tokens),
        request,
        tokens,
        prefill: Duration::from_millis(prefill_ms),
        decode: Duration::from_millis(decode_ms),
    }
}

fn names(p: &[Planned]) -> Vec<&'static str> {
    p.iter()
        .map(|s| match &s.step {
            Step::Event { name, .. } => *name,
            Step::Cut => "CUT",
        })
        .collect()
}

fn deltas(p: &[Planned]) -> Vec<(u128, String)> {
    p.iter()
        .filter_map(|s| match &s.step {
            Step::Event { name, data } if *name == "content_block_delta" => Some((
                s.at.as_millis(),
                data["delta"]["text"].as_str().unwrap_or("").to_owned(),
            )),
            _ => None,
        })
        .collect()
}

#[test]
fn a_clean_stream_has_the_api_sequence_and_its_timing() {
    let p = plan(&answer(4, 100, 10), StreamFault::None);
    assert_eq!(
        names(&p),
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let d = deltas(&p);
    let times: Vec<u128> = d.iter().map(|(t, _)| *t).collect();
    assert_eq!(times, [100, 110, 120, 130]);
    let text: String = d.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(text, "a b c Based");
    assert_eq!(p.last().map(|s| s.at.as_millis()), Some(130));
    let Step::Event { data, .. } = &p[p.len() - 2].step else {
        panic!("message_delta")
    };
    assert_eq!(data["usage"]["output_tokens"], 4);
    assert_eq!(data["delta"]["stop_reason"], "end_turn");
}

#[test]
fn an_error_fault_ends_the_stream_with_an_overloaded_error_after_n_tokens() {
    let p = plan(&answer(5, 50, 10), StreamFault::Error { after: 2 });
    assert_eq!(deltas(&p).len(), 2);
    let last = p.last().expect("steps");
    assert_eq!(last.at.as_millis(), 70);
    let Step::Event { name, data } = &last.step else {
        panic!("an event")
    };
    assert_eq!(*name, "error");
    assert_eq!(data["error"]["type"], "overloaded_error");
}

#[test]
fn a_truncation_cuts_before_message_stop_and_a_stall_delays_what_follows() {
    let p = plan(&answer(5, 50, 10), StreamFault::Truncate { after: 3 });
    assert_eq!(names(&p).last(), Some(&"CUT"));
    assert_eq!(deltas(&p).len(), 3);
    assert!(!names(&p).contains(&"message_stop"));

    let stall = StreamFault::Stall {
        after: 2,
        pause: Duration::from_millis(300),
    };
    let times: Vec<u128> = deltas(&plan(&answer(4, 50, 10), stall))
        .iter()
        .map(|(t, _)| *t)
        .collect();
    assert_eq!(times, [50, 60, 370, 380]);
}

#[test]
fn slow_decode_paces_tokens_at_its_rate() {
    let times: Vec<u128> = deltas(&plan(
        &answer(3, 20, 1),
        StreamFault::SlowDecode { tokens_per_s: 10 },
    ))
    .iter()
    .map(|(t, _)| *t)
    .collect();
    assert_eq!(times, [20, 120, 220]);
}

#[test]
fn faults_read_back_from_their_specs_and_bad_ones_say_why() {
    for spec in [
        "none",
        "error:3",
        "truncate:0",
        "stall:2:1500ms",
        "slow-decode:5",
    ] {
        let f: StreamFault = spec.parse().expect(spec);
        assert_eq!(f.to_string(), spec);
    }
    for (spec, why) in [
        ("stall:2", "wrong number"),
        ("error:x", "'x' is not a token count"),
        ("slow-decode:0", "above 0"),
        ("stall:1:soon", "soon"),
        ("flood", "unknown kind"),
    ] {
        let e = spec.parse::<StreamFault>().expect_err(spec).to_string();
        assert!(e.contains(why) && e.contains(spec), "{spec}: {e}");
    }
}
