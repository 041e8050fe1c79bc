//! The last step of `make bench`: one report from what `sip_load` and `speech` measured.
//!
//! Reads `target/bench/{sip_load,speech,spoken,speech_load}.json` and writes, beside them:
//! - `report.txt`: the headline table (also printed), each figure next to its reference in
//!   DESIGN.md §8;
//! - `report.json`: the same figures, machine-readable;
//! - `latency_vs_load.svg`: time to human (DTMF 0 → agent INVITE), first prompt latency and
//!   the probes' worst packet gap against concurrent calls.
//!
//! Figures marked "derived" are computed from measured ones with the stated assumption, not
//! measured by a load run of their own. Speech recognition under load is measured
//! (`speech_load`: callers who speak), each row beside its target from issue 14.

use serde_json::{json, Value};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// DESIGN §8 references.
const ASTERISK_CALLS_PER_GHZ: f64 = 100.0;
const RUSTPBX_CORE_PCT_PER_CALL: f64 = 0.08;
const RTPENGINE_PPS_PER_CORE: f64 = 300_000.0;
const WHISPER_TINY_RTF: f64 = 0.18;
const G114_ONE_WAY_MS: f64 = 150.0;

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench");
    let load = read(&dir, "sip_load.json");
    let speech = read(&dir, "speech.json");
    let spoken = read(&dir, "spoken.json");
    let talk = read(&dir, "speech_load.json");
    if load.is_null() && speech.is_null() && talk.is_null() {
        println!(
            "bench report: nothing to report in {} (run `make bench`)",
            dir.display()
        );
        return;
    }
    let mut rows = rows(&load, &speech, &spoken);
    // The measured speech rows stand where the derived "+ ASR" estimate used to.
    let at = rows
        .iter()
        .position(|r| r["measure"].as_str().is_some_and(|m| m.contains("+ VAD")))
        .map_or(rows.len(), |i| i + 1);
    rows.splice(at..at, speech_rows(&talk));
    let mut text = String::new();
    let m = if load["machine"].is_null() {
        &talk["machine"]
    } else {
        &load["machine"]
    };
    let _ = writeln!(
        text,
        "humanline benchmark report — {} cores, {} ({} MHz)\n",
        m["cores"],
        m["cpu_model"].as_str().unwrap_or("?"),
        num(&m["cpu_mhz"], 0)
    );
    let _ = writeln!(
        text,
        "{:<52} {:>22}   reference (DESIGN.md §8)",
        "measure", "humanline"
    );
    for r in &rows {
        let _ = writeln!(
            text,
            "{:<52} {:>22}   {}",
            r["measure"].as_str().unwrap_or(""),
            r["value"].as_str().unwrap_or(""),
            r["reference"].as_str().unwrap_or("")
        );
    }
    let _ = writeln!(
        text,
        "\n\"derived\": computed from measured figures, not a load run of its own. Speech rows: measured by speech_load (callers who speak), targets from issue 14."
    );
    let points = load_points(&load);
    if !points.is_empty() {
        let svg = plot(&points);
        let path = dir.join("latency_vs_load.svg");
        match std::fs::write(&path, svg) {
            Ok(()) => {
                let _ = writeln!(text, "plot: {}", path.display());
            }
            Err(e) => {
                let _ = writeln!(text, "plot not written: {e}");
            }
        }
    }
    print!("\n{text}");
    let _ = std::fs::write(dir.join("report.txt"), &text);
    let json = json!({ "machine": load["machine"], "rows": rows, "load_points": points.iter().map(|p| json!({
        "calls": p.calls, "zero_out_p50_ms": p.zero_out_p50, "zero_out_max_ms": p.zero_out_max,
        "first_rtp_p50_ms": p.first_rtp_p50, "probe_max_gap_ms": p.max_gap, "passed": p.passed,
    })).collect::<Vec<_>>() });
    let _ = std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&json).unwrap_or_default(),
    );
    println!("JSON: {}", dir.join("report.json").display());
}

fn read(dir: &Path, name: &str) -> Value {
    std::fs::read_to_string(dir.join(name))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null)
}

fn f(v: &Value) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

fn num(v: &Value, digits: usize) -> String {
    f(v).map_or("–".into(), |x| format!("{x:.digits$}"))
}

fn row(measure: &str, value: String, reference: String) -> Value {
    json!({ "measure": measure, "value": value, "reference": reference })
}

/// The headline rows.
fn rows(load: &Value, speech: &Value, spoken: &Value) -> Vec<Value> {
    let s = &load["summary"];
    let mut out = Vec::new();
    let best = s["best_calls"].as_u64();
    let best_step = load["steps"].as_array().and_then(|steps| {
        steps
            .iter()
            .filter(|st| st["passed"] == true)
            .max_by_key(|st| st["calls"].as_u64().unwrap_or(0))
    });
    let mhz = f(&load["machine"]["cpu_mhz"]);
    out.push(row(
        "highest load passed (< 1 % late RTP, no failed call)",
        best.map_or("none".into(), |c| format!("{c} calls")),
        format!(
            "ramp {} (sipp + probes)",
            load["steps"]
                .as_array()
                .map(|st| {
                    let mut c: Vec<u64> = st.iter().filter_map(|x| x["calls"].as_u64()).collect();
                    c.dedup();
                    c.iter().map(u64::to_string).collect::<Vec<_>>().join("→")
                })
                .unwrap_or_default()
        ),
    ));
    out.push(row(
        "IVR calls per core (prompt playback), at that load",
        num(&s["calls_per_core"], 0),
        format!(
            "Asterisk ≈{ASTERISK_CALLS_PER_GHZ:.0}/GHz → ≈{} at this clock",
            mhz.map_or("–".into(), |m| format!(
                "{:.0}",
                ASTERISK_CALLS_PER_GHZ * m / 1000.0
            ))
        ),
    ));
    let marginal = f(&s["marginal_core_pct_per_call"]);
    out.push(row(
        "IVR calls per core, marginal (CPU slope over steps)",
        marginal
            .filter(|m| *m > 0.0)
            .map_or("–".into(), |m| format!("{:.0}", 100.0 / m)),
        "the fixed overhead left out".into(),
    ));
    out.push(row(
        "CPU per call, % of a core (at the best step)",
        num(&s["core_pct_per_call"], 3),
        format!("rustpbx relay ≈{RUSTPBX_CORE_PCT_PER_CALL} % (relay, no playback)"),
    ));
    let pps_per_core = best_step.and_then(|st| {
        let pps = f(&st["server_pps"])?;
        let cores = f(&st["server_cpu_pct"])? / 100.0;
        (cores > 0.0).then(|| pps / cores)
    });
    out.push(row(
        "RTP packets sent per second per core",
        pps_per_core.map_or("–".into(), |p| format!("{p:.0}")),
        format!("rtpengine ≈{RTPENGINE_PPS_PER_CORE:.0} (kernel-assisted relay)"),
    ));
    out.push(row(
        "RSS per call, KB",
        num(&s["rss_per_call_kb"], 1),
        format!("idle RSS {} MB", num(&s["idle_rss_mb"], 1)),
    ));
    let vad_share = f(&speech["vad"]["core_share_per_call"]);
    let playback_share = f(&s["core_pct_per_call"]).map(|p| p / 100.0);
    let with_vad = playback_share.zip(vad_share).map(|(p, v)| p + v);
    out.push(row(
        "IVR calls per core, playback + VAD (derived)",
        with_vad.map_or("–".into(), |c| format!("{:.0}", 1.0 / c)),
        format!(
            "VAD + endpointing {} % of a core per call (speech bench)",
            vad_share.map_or("–".into(), |v| format!("{:.3}", v * 100.0))
        ),
    ));
    let cores = f(&speech["cores"]).unwrap_or(1.0).min(2.0) as i64;
    out.push(row(
        "whisper base real-time factor (window sized to the clip)",
        best_rtf(speech, cores).map_or("–".into(), |r| format!("{r:.3} ({cores} threads)")),
        format!("whisper.cpp tiny ≈{WHISPER_TINY_RTF} on a desktop CPU"),
    ));
    let chosen = &speech["asr_default"];
    out.push(row(
        "whisper base RTF, chosen default (format, threads, window sized to the clip)",
        f(&chosen["rtf"]).map_or("–".into(), |r| format!("{r:.3}")),
        format!(
            "{} on {} thread(s); target ≤ 0.10 (issue 14)",
            chosen["format"].as_str().unwrap_or("–"),
            chosen["threads"]
                .as_i64()
                .map_or("–".into(), |t| t.to_string())
        ),
    ));
    let l = &load["latency"];
    let top = best_step;
    out.push(row(
        "time to human, DTMF 0 → agent INVITE, idle p50/p99 ms",
        format!(
            "{} / {}",
            num(&l["dtmf_to_agent_invite_ms"]["p50"], 1),
            num(&l["dtmf_to_agent_invite_ms"]["p99"], 1)
        ),
        "first ask honoured at once".into(),
    ));
    out.push(row(
        "time to human at the best step, p50/max ms",
        top.map_or("–".into(), |st| {
            format!(
                "{} / {}",
                num(&st["zero_out_ms"]["p50"], 1),
                num(&st["zero_out_ms"]["max"], 1)
            )
        }),
        format!(
            "{} zero-out calls during the window",
            top.map_or("–".into(), |st| st["zero_out_ms"]["n"].to_string())
        ),
    ));
    out.push(row(
        "spoken request, end of speech → transfer, p50/p95 ms",
        format!(
            "{} / {}",
            num(&spoken["p50_ms"], 0),
            num(&spoken["p95_ms"], 0)
        ),
        "endpointing 500–3000 ms (voice agents)".into(),
    ));
    out.push(row(
        "first prompt, 200 OK → first RTP, p50/p99 ms",
        format!(
            "{} / {}",
            num(&l["first_rtp_after_200_ms"]["p50"], 1),
            num(&l["first_rtp_after_200_ms"]["p99"], 1)
        ),
        format!("one-way delay < {G114_ONE_WAY_MS:.0} ms (ITU-T G.114)"),
    ));
    out.push(row(
        "first prompt at the best step, p50/max ms",
        top.map_or("–".into(), |st| {
            format!(
                "{} / {}",
                num(&st["first_rtp_ms"]["p50"], 1),
                num(&st["first_rtp_ms"]["max"], 1)
            )
        }),
        String::new(),
    ));
    out
}

/// The measured speech rows (`speech_load.json`): speaking calls per core and the latencies
/// of a spoken request, each beside its target.
fn speech_rows(talk: &Value) -> Vec<Value> {
    let t = &talk["targets"];
    let p = |v: &Value| format!("{} / {}", num(&v["p50_ms"], 0), num(&v["p95_ms"], 0));
    let best = talk["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|st| st["passed"] == true)
        .max_by_key(|st| st["calls"].as_u64().unwrap_or(0));
    let ramp = talk["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|st| {
            let mark = if st["passed"] == true { "" } else { "✗" };
            format!("{}{mark}", st["calls"])
        })
        .collect::<Vec<_>>()
        .join("→");
    let mut out = vec![
        row(
            "speaking calls per core, measured",
            talk["speaking_calls_per_core"]
                .as_f64()
                .map_or("none".into(), |c| format!("{c:.1}")),
            format!(
                "target ≥ {}; decision p95 ≤ 1.5 s; ramp {} ÷ {} cores",
                num(&t["speaking_calls_per_core"], 0),
                if ramp.is_empty() { "–".into() } else { ramp },
                talk["machine"]["cores"]
            ),
        ),
        row(
            "  at that step: end of speech → decision p50/p95 ms",
            best.map_or("–".into(), |st| p(&st["decision"])),
            format!(
                "ASR queue wait p50/p95 {} ms",
                best.map_or("–".into(), |st| p(&st["asr_queue"]))
            ),
        ),
    ];
    if let Some(first) = talk["steps"].as_array().and_then(|s| s.first()) {
        out.push(row(
            "  first step: end of speech → decision p50/p95 ms",
            p(&first["decision"]),
            format!(
                "{} calls; ASR queue wait p50/p95 {} ms",
                first["calls"],
                p(&first["asr_queue"])
            ),
        ));
        let k = &first["decision_by_kind"];
        out.push(row(
            "  first step, by turn: one look / stretched window / second look p50/p95 ms",
            format!(
                "{} / {} / {}",
                p(&k["one_look"]),
                p(&k["stretched_window"]),
                p(&k["second_look"])
            ),
            format!(
                "turns {} / {} / {}",
                k["one_look"]["n"], k["stretched_window"]["n"], k["second_look"]["n"]
            ),
        ));
    }
    out.push(row(
        "  speaking calls per core, one-look turns only",
        talk["one_look_calls_per_core"]
            .as_f64()
            .map_or("none".into(), |c| format!("{c:.1}")),
        "not the target's definition: turns at one look under the standard window, p95 ≤ 1.5 s"
            .into(),
    ));
    out.push(row(
        "spoken request → agent INVITE, idle p50/p95 ms",
        p(&talk["spoken"]["words_to_invite"]),
        format!(
            "target ≤ {} / ≤ {} (end of words → INVITE at agent)",
            num(&t["spoken_p50_ms"], 0),
            num(&t["spoken_p95_ms"], 0)
        ),
    ));
    let under_load = best.or_else(|| talk["steps"].as_array().and_then(|s| s.first()));
    out.push(row(
        "spoken request → agent INVITE under load p50/p95 ms",
        under_load.map_or("–".into(), |st| p(&st["request_to_invite"])),
        format!(
            "during the {} speaking calls step",
            under_load.map_or("–".into(), |st| st["calls"].to_string())
        ),
    ));
    for r in talk["decision_to_invite"].as_array().into_iter().flatten() {
        out.push(row(
            &format!(
                "decision → INVITE, {} p50/p95 ms",
                r[0].as_str().unwrap_or("?")
            ),
            p(&r[1]),
            format!("target ≤ {}", num(&t["decision_to_invite_ms"], 0)),
        ));
    }
    if talk.is_null() {
        out.push(row(
            "speech under load",
            "–".into(),
            "not measured: cargo bench --bench speech_load".into(),
        ));
    }
    out
}

/// The fastest clip-averaged real-time factor over the sized windows, for `threads`.
fn best_rtf(speech: &Value, threads: i64) -> Option<f64> {
    let runs = speech["asr"].as_array()?;
    let mut by_window: std::collections::BTreeMap<i64, Vec<f64>> = Default::default();
    for r in runs
        .iter()
        .filter(|r| r["threads"].as_i64() == Some(threads))
    {
        let w = r["audio_ctx"].as_i64().unwrap_or(1500);
        if let Some(rtf) = f(&r["rtf"]) {
            by_window.entry(w).or_default().push(rtf);
        }
    }
    by_window
        .values()
        .map(|v| v.iter().sum::<f64>() / v.len() as f64)
        .min_by(f64::total_cmp)
}

/// One step of the ramp, for the plot.
struct Point {
    calls: f64,
    zero_out_p50: Option<f64>,
    zero_out_max: Option<f64>,
    first_rtp_p50: Option<f64>,
    max_gap: Option<f64>,
    passed: bool,
}

fn load_points(load: &Value) -> Vec<Point> {
    let mut v: Vec<Point> = load["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|st| Point {
            calls: f(&st["calls"]).unwrap_or(0.0),
            zero_out_p50: f(&st["zero_out_ms"]["p50"]).filter(|_| st["zero_out_ms"]["n"] != 0),
            zero_out_max: f(&st["zero_out_ms"]["max"]).filter(|_| st["zero_out_ms"]["n"] != 0),
            first_rtp_p50: f(&st["first_rtp_ms"]["p50"]).filter(|_| st["first_rtp_ms"]["n"] != 0),
            max_gap: f(&st["probe"]["max_gap_ms"]).filter(|g| *g > 0.0),
            passed: st["passed"] == true,
        })
        .collect();
    v.sort_by(|a, b| a.calls.total_cmp(&b.calls));
    v
}

/// Latency (ms) against concurrent calls, one line per series, failing steps marked.
fn plot(points: &[Point]) -> String {
    let (w, h, left, right, top, bottom) = (760.0, 420.0, 70.0, 190.0, 40.0, 50.0);
    let pw = w - left - right;
    let ph = h - top - bottom;
    type Pick = fn(&Point) -> Option<f64>;
    let series: [(&str, &str, Pick); 4] = [
        ("time to human p50", "#c0392b", |p| p.zero_out_p50),
        ("time to human max", "#e67e22", |p| p.zero_out_max),
        ("first prompt p50", "#2980b9", |p| p.first_rtp_p50),
        ("worst packet gap", "#27ae60", |p| p.max_gap),
    ];
    let xmax = points.iter().map(|p| p.calls).fold(1.0, f64::max);
    let ymax = points
        .iter()
        .flat_map(|p| series.iter().filter_map(move |(_, _, pick)| pick(p)))
        .fold(50.0, f64::max)
        * 1.1;
    let x = |c: f64| left + c / xmax * pw;
    let y = |ms: f64| top + ph - ms / ymax * ph;
    let mut o = String::new();
    let _ = write!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">"#
    );
    let _ = write!(
        o,
        r#"<rect width="{w}" height="{h}" fill="white"/><text x="{left}" y="22" font-size="15">humanline: latency against load (ms over concurrent calls)</text>"#
    );
    for i in 0..=5 {
        let ms = ymax * i as f64 / 5.0;
        let _ = write!(
            o,
            r##"<line x1="{left}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{ms:.0}</text>"##,
            left + pw,
            left - 6.0,
            y(ms) + 4.0,
            yy = y(ms)
        );
    }
    for p in points {
        let _ = write!(
            o,
            r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="{}">{:.0}</text>"##,
            x(p.calls),
            top + ph + 18.0,
            if p.passed { "#333" } else { "#c00" },
            p.calls
        );
    }
    let _ = write!(
        o,
        r##"<text x="{}" y="{}" text-anchor="middle">concurrent calls (red: step failed)</text><line x1="{left}" x2="{left}" y1="{top}" y2="{}" stroke="#333"/><line x1="{left}" x2="{}" y1="{}" y2="{}" stroke="#333"/>"##,
        left + pw / 2.0,
        h - 10.0,
        top + ph,
        left + pw,
        top + ph,
        top + ph
    );
    for (i, (name, colour, pick)) in series.iter().enumerate() {
        let pts: Vec<String> = points
            .iter()
            .filter_map(|p| pick(p).map(|v| format!("{:.1},{:.1}", x(p.calls), y(v))))
            .collect();
        if !pts.is_empty() {
            let _ = write!(
                o,
                r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"/>"#,
                pts.join(" ")
            );
            for pt in &pts {
                let (px, py) = pt.split_once(',').unwrap_or(("0", "0"));
                let _ = write!(o, r#"<circle cx="{px}" cy="{py}" r="3" fill="{colour}"/>"#);
            }
        }
        let ly = top + 10.0 + i as f64 * 20.0;
        let _ = write!(
            o,
            r#"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}">{name}</text>"#,
            left + pw + 12.0,
            left + pw + 32.0,
            left + pw + 38.0,
            ly + 4.0
        );
    }
    o.push_str("</svg>\n");
    o
}
