//! sipp (SIPp 3.6, Debian package `sip-tester`) as a real SIP client: a caller that runs a list of
//! steps once its call is up, and an agent's phone that checks the hand-off headers and talks.
//! Scenarios live in `tests/sipp/`; their `{{PLACEHOLDERS}}` are filled here and the result is
//! written into the test's temp dir. Also makes the audio clips the clients play.
#![allow(dead_code)]

use super::server::free_port;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// RFC 4733 DTMF recordings that ship with sipp (payload type 101).
pub const DTMF_PCAP_DIR: &str = "/usr/share/sip-tester";

/// SIP transport of a sipp client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `-t u1`.
    Udp,
    /// `-t t1`: one TCP connection to the server.
    Tcp,
}

impl Transport {
    fn flag(self) -> &'static str {
        match self {
            Transport::Udp => "u1",
            Transport::Tcp => "t1",
        }
    }
}

/// What a caller does once its call is answered and ACKed.
#[derive(Debug, Clone)]
pub enum Step {
    /// Do nothing for this long (the call's RTP keeps flowing).
    Pause(Duration),
    /// Press a key: sipp replays its RFC 4733 recording (`0`-`9`, `*`, `#`), about 0.3 s.
    Dtmf(char),
    /// Stream a raw 8 kHz µ-law file as PCMU RTP, `loops` times (-1: until the call ends). The
    /// scenario goes on at once: follow with a `Pause` to let it play.
    Stream { clip: PathBuf, loops: i32 },
}

/// Pause for `ms` milliseconds.
pub fn pause(ms: u64) -> Step {
    Step::Pause(Duration::from_millis(ms))
}

/// Press `key` by RFC 4733.
pub fn dtmf(key: char) -> Step {
    Step::Dtmf(key)
}

/// Stream `clip` once.
pub fn stream(clip: &Path) -> Step {
    Step::Stream {
        clip: clip.to_path_buf(),
        loops: 1,
    }
}

/// What the caller offers in its SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    /// PCMU (0) and telephone-event/8000 (101).
    PcmuWithTelephoneEvent,
    /// PCMU only: DTMF can only arrive as tones in the audio.
    PcmuOnly,
}

fn dtmf_pcap(key: char) -> PathBuf {
    let name = match key {
        '0'..='9' => key.to_string(),
        '*' => "star".into(),
        '#' => "pound".into(),
        other => panic!("no sipp DTMF recording for key {other:?}"),
    };
    PathBuf::from(DTMF_PCAP_DIR).join(format!("dtmf_2833_{name}.pcap"))
}

fn steps_xml(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        match s {
            Step::Pause(d) => {
                let _ = writeln!(out, "  <pause milliseconds=\"{}\"/>", d.as_millis());
            }
            Step::Dtmf(k) => {
                let p = dtmf_pcap(*k);
                assert!(p.exists(), "{} is missing: install sip-tester", p.display());
                let _ = writeln!(
                    out,
                    "  <nop><action><exec play_pcap_audio=\"{}\"/></action></nop>",
                    p.display()
                );
            }
            Step::Stream { clip, loops } => {
                let _ = writeln!(
                    out,
                    "  <nop><action><exec rtp_stream=\"{},{loops},0\"/></action></nop>",
                    clip.display()
                );
            }
        }
    }
    out
}

fn scenario(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
}

/// A free even port whose neighbours are free too: sipp binds RTP on `-mp` and RTCP/video above it.
pub fn free_media_port() -> u16 {
    for _ in 0..200 {
        let p = free_port();
        if !p.is_multiple_of(2) || p > 65530 {
            continue;
        }
        let all_free = (p..p + 4).all(|q| std::net::UdpSocket::bind(("127.0.0.1", q)).is_ok());
        if all_free {
            return p;
        }
    }
    panic!("no free block of 4 UDP ports on 127.0.0.1");
}

/// A sipp process that is running.
pub struct SippRun {
    /// Its SIP port on 127.0.0.1.
    pub sip_port: u16,
    /// Its RTP port: `[media_port]` in its SDP.
    pub media_port: u16,
    /// A name for messages ("caller", "agent").
    pub role: String,
    child: Option<Child>,
    files: SippFiles,
    started: Instant,
}

#[derive(Debug, Clone)]
struct SippFiles {
    scenario: PathBuf,
    stdout: PathBuf,
    errors: PathBuf,
    messages: PathBuf,
    logs: PathBuf,
}

/// What a finished sipp left behind.
#[derive(Debug)]
pub struct SippResult {
    /// sipp's exit code: 0 = every call passed the scenario; 1 = a call failed; 99 = no call
    /// was processed; -1 (255) or -2 (254) fatal; `None` = killed at the deadline.
    pub code: Option<i32>,
    /// `-trace_err`: unexpected messages and why the scenario failed.
    pub errors: String,
    /// `-trace_msg`: every SIP message sent and received.
    pub messages: String,
    /// `-trace_logs`: what the scenario's `<log>` actions wrote.
    pub logs: String,
    /// sipp's screen output.
    pub stdout: String,
    /// How long it ran.
    pub elapsed: Duration,
}

impl SippResult {
    /// Whether every call passed the scenario.
    pub fn passed(&self) -> bool {
        self.code == Some(0)
    }

    /// The SIP messages sipp received, in order, as text.
    pub fn received(&self) -> Vec<&str> {
        self.messages
            .split("-----------------------------------------------")
            .filter_map(|block| {
                let (head, msg) = block.split_once(" bytes :")?;
                head.contains("message received").then(|| msg.trim())
            })
            .collect()
    }

    /// The first received message whose first line starts with `start` (e.g. `"SIP/2.0 200"`,
    /// `"INVITE "`).
    pub fn first_received(&self, start: &str) -> Option<&str> {
        self.received().into_iter().find(|m| m.starts_with(start))
    }

    /// A report for assertion messages.
    pub fn report(&self) -> String {
        format!(
            "sipp exit {:?} after {:.1} s\n--- errors ---\n{}\n--- SIP messages ---\n{}\n--- screen (tail) ---\n{}",
            self.code,
            self.elapsed.as_secs_f64(),
            self.errors,
            self.messages,
            tail(&self.stdout, 40)
        )
    }
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn sipp_files(dir: &Path, role: &str, xml: &str) -> SippFiles {
    let scenario = dir.join(format!("{role}.xml"));
    std::fs::write(&scenario, xml).expect("write scenario");
    SippFiles {
        scenario,
        stdout: dir.join(format!("{role}.stdout")),
        errors: dir.join(format!("{role}_errors.log")),
        messages: dir.join(format!("{role}_messages.log")),
        logs: dir.join(format!("{role}_logs.log")),
    }
}

fn spawn(role: &str, dir: &Path, files: SippFiles, extra: &[String], ports: Ports) -> SippRun {
    let (sip_port, media_port) = (ports.sip, ports.media);
    let mut cmd = Command::new("sipp");
    // A scenario's whole run is bounded (30 s unless `extra` says otherwise).
    if !extra.iter().any(|a| a == "-timeout") {
        cmd.args(["-timeout", "30s"]);
    }
    cmd.args(extra)
        .arg("-sf")
        .arg(&files.scenario)
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
        .args(["-p", &sip_port.to_string(), "-mp", &media_port.to_string()])
        .args(["-m", "1", "-timeout_error", "-nostdin"])
        .args(["-trace_err", "-error_file"])
        .arg(&files.errors)
        .args(["-trace_msg", "-message_file"])
        .arg(&files.messages)
        .args(["-trace_logs", "-log_file"])
        .arg(&files.logs)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&files.stdout).expect("create sipp stdout file"))
        .stderr(Stdio::from(
            std::fs::OpenOptions::new()
                .append(true)
                .open(&files.stdout)
                .expect("open sipp stdout file"),
        ));
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run sipp ({e}): install sip-tester (scripts/setup.sh)"));
    SippRun {
        sip_port,
        media_port,
        role: role.to_string(),
        child: Some(child),
        files,
        started: Instant::now(),
    }
}

/// The two ports a sipp client takes on 127.0.0.1, chosen before it starts so that a capture can
/// be set up for them first.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// SIP (`-p`).
    pub sip: u16,
    /// RTP (`-mp`): `[media_port]` in its SDP, where the server must send audio.
    pub media: u16,
}

impl Ports {
    /// Ports that are free now.
    pub fn free() -> Ports {
        let sip = free_port();
        let mut media = free_media_port();
        while (media..media + 4).contains(&sip) {
            media = free_media_port();
        }
        Ports { sip, media }
    }
}

/// Starts a caller on `ports`: INVITE `sip:support@server` over `transport` offering `offer`,
/// then `steps`, then BYE. Its files go into `dir`.
pub fn caller(
    dir: &Path,
    ports: Ports,
    server: SocketAddr,
    transport: Transport,
    offer: Offer,
    steps: &[Step],
) -> SippRun {
    caller_for(
        dir,
        ports,
        server,
        transport,
        offer,
        steps,
        Duration::from_secs(30),
    )
}

/// A caller (as [`caller`]) whose whole run may last up to `limit`.
pub fn caller_for(
    dir: &Path,
    ports: Ports,
    server: SocketAddr,
    transport: Transport,
    offer: Offer,
    steps: &[Step],
    limit: Duration,
) -> SippRun {
    let (formats, rtpmaps) = match offer {
        Offer::PcmuWithTelephoneEvent => (
            "0 101",
            "      a=rtpmap:0 PCMU/8000\n      a=rtpmap:101 telephone-event/8000\n      a=fmtp:101 0-15",
        ),
        Offer::PcmuOnly => ("0", "      a=rtpmap:0 PCMU/8000"),
    };
    let xml = scenario("caller.xml")
        .replace("{{FORMATS}}", formats)
        .replace("{{RTPMAPS}}", rtpmaps)
        .replace("{{STEPS}}", &steps_xml(steps));
    let role = format!("caller_{}", transport.flag());
    let files = sipp_files(dir, &role, &xml);
    let extra = vec![
        server.to_string(),
        "-s".into(),
        "support".into(),
        "-t".into(),
        transport.flag().into(),
        "-timeout".into(),
        format!("{}s", limit.as_secs()),
    ];
    spawn(&role, dir, files, &extra, ports)
}

/// Starts an agent's phone on `ports` (UDP, like the server's outbound leg) that answers one
/// call and talks `clip` (raw µ-law, looped) until it gets a BYE. The INVITE must carry the
/// hand-off headers, or the scenario fails.
pub fn agent(dir: &Path, ports: Ports, clip: &Path) -> SippRun {
    let xml = scenario("agent.xml").replace("{{CLIP}}", &clip.display().to_string());
    let files = sipp_files(dir, "agent", &xml);
    spawn("agent", dir, files, &["-t".into(), "u1".into()], ports)
}

/// An agent's phone on `ports` registers `user` with digest authentication at `server`
/// (asking for `expires` seconds) and expects `final_status` after the challenge. Run it to the
/// end before starting the same phone's answering scenario on the same ports.
pub fn register(
    dir: &Path,
    ports: Ports,
    server: SocketAddr,
    (user, password): (&str, &str),
    expires: u32,
    final_status: u16,
) -> SippRun {
    let xml = scenario("agent_register.xml")
        .replace("{{USER}}", user)
        .replace("{{PASS}}", password)
        .replace("{{EXPIRES}}", &expires.to_string())
        .replace("{{FINAL}}", &final_status.to_string());
    let role = format!("{user}_register_{}", ports.sip);
    let files = sipp_files(dir, &role, &xml);
    let extra = vec![server.to_string(), "-t".into(), "u1".into()];
    spawn(&role, dir, files, &extra, ports)
}

/// An agent's phone on `ports` that rings and refuses the call with `status` (486, 603…).
pub fn agent_refusing(dir: &Path, ports: Ports, status: u16, reason: &str) -> SippRun {
    let xml = scenario("agent_refuse.xml")
        .replace("{{STATUS}}", &status.to_string())
        .replace("{{REASON}}", reason);
    let role = format!("agent_{status}_{}", ports.sip);
    let files = sipp_files(dir, &role, &xml);
    spawn(&role, dir, files, &["-t".into(), "u1".into()], ports)
}

/// An agent's phone on `ports` that answers, talks `clip` for `talk` and then vanishes without
/// a BYE (no more audio, no more answers).
pub fn agent_dropping(dir: &Path, ports: Ports, clip: &Path, talk: Duration) -> SippRun {
    let xml = scenario("agent_drop.xml")
        .replace("{{CLIP}}", &clip.display().to_string())
        .replace("{{TALK_MS}}", &talk.as_millis().to_string());
    let role = format!("agent_drop_{}", ports.sip);
    let files = sipp_files(dir, &role, &xml);
    spawn(&role, dir, files, &["-t".into(), "u1".into()], ports)
}

/// An agent's phone on `ports` that answers one call (as [`agent`]), under a role name of its
/// own so that several can share a folder.
pub fn agent_named(dir: &Path, name: &str, ports: Ports, clip: &Path) -> SippRun {
    let xml = scenario("agent.xml").replace("{{CLIP}}", &clip.display().to_string());
    let role = format!("agent_{name}_{}", ports.sip);
    let files = sipp_files(dir, &role, &xml);
    spawn(&role, dir, files, &["-t".into(), "u1".into()], ports)
}

/// An agent's phone (as [`agent`]) whose INVITE must carry `X-Humanline-Reason` matching
/// `reason` (a regular expression: `routed` for the plan's own transfers).
pub fn agent_for_reason(dir: &Path, ports: Ports, clip: &Path, reason: &str) -> SippRun {
    let xml = scenario("agent.xml")
        .replace("{{CLIP}}", &clip.display().to_string())
        .replace("regexp=\"zero_out\"", &format!("regexp=\"{reason}\""));
    let role = format!("agent_{reason}_{}", ports.sip);
    let files = sipp_files(dir, &role, &xml);
    spawn(&role, dir, files, &["-t".into(), "u1".into()], ports)
}

/// An agent's phone on `ports` that answers (as [`agent`]), talks for `talk`, then passes
/// the caller on by REFER to `sip:TARGET@server` and expects 202, NOTIFY 200 and our BYE.
pub fn agent_referring(
    dir: &Path,
    ports: Ports,
    clip: &Path,
    target: &str,
    talk: Duration,
) -> SippRun {
    let xml = scenario("agent_refer.xml")
        .replace("{{CLIP}}", &clip.display().to_string())
        .replace("{{TARGET}}", target)
        .replace("{{TALK_MS}}", &talk.as_millis().to_string());
    let role = format!("agent_refer_{}", ports.sip);
    let files = sipp_files(dir, &role, &xml);
    spawn(&role, dir, files, &["-t".into(), "u1".into()], ports)
}

/// An agent's phone on a warm queue: answers, hears the brief, then does `steps` (a key, a
/// pause, a clip) and waits for the server's BYE (after passing, or when the caller leaves).
pub fn agent_warm(dir: &Path, name: &str, ports: Ports, steps: &[Step]) -> SippRun {
    let xml = scenario("agent_warm.xml").replace("{{STEPS}}", &steps_xml(steps));
    let role = format!("agent_warm_{name}_{}", ports.sip);
    let files = sipp_files(dir, &role, &xml);
    let extra = ["-t", "u1", "-timeout", "90s"].map(String::from);
    spawn(&role, dir, files, &extra, ports)
}

/// A carrier's trunk on `ports` (UDP) that challenges the first INVITE (digest 401), takes
/// the second only with `user`'s `password` and a From and P-Asserted-Identity matching
/// `caller_id` (a regular expression) and the hand-off context, answers and talks `clip`
/// until the BYE.
pub fn trunk_uas(
    dir: &Path,
    ports: Ports,
    (user, password): (&str, &str),
    caller_id: &str,
    clip: &Path,
) -> SippRun {
    let xml = scenario("trunk_uas.xml")
        .replace("{{USER}}", user)
        .replace("{{PASS}}", password)
        .replace("{{CALLER_ID}}", caller_id)
        .replace("{{CLIP}}", &clip.display().to_string());
    let role = format!("trunk_{}", ports.sip);
    let files = sipp_files(dir, &role, &xml);
    spawn(&role, dir, files, &["-t".into(), "u1".into()], ports)
}

/// A customer called back through a carrier's trunk on `ports` (UDP): the carrier challenges
/// the first INVITE (digest 401) and takes the second only with `user`'s `password`, a From
/// and P-Asserted-Identity matching `caller_id` (a regular expression) and no context
/// headers; the customer answers, talks `clip` for `talk`, then hangs up.
pub fn trunk_customer(
    dir: &Path,
    ports: Ports,
    (user, password): (&str, &str),
    caller_id: &str,
    clip: &Path,
    talk: Duration,
) -> SippRun {
    let xml = scenario("trunk_customer.xml")
        .replace("{{USER}}", user)
        .replace("{{PASS}}", password)
        .replace("{{CALLER_ID}}", caller_id)
        .replace("{{CLIP}}", &clip.display().to_string())
        .replace("{{TALK_MS}}", &talk.as_millis().to_string());
    let role = format!("customer_{}", ports.sip);
    let files = sipp_files(dir, &role, &xml);
    let extra = ["-t", "u1", "-timeout", "90s"].map(String::from);
    spawn(&role, dir, files, &extra, ports)
}

/// A carrier's registrar on `ports` (UDP): challenges each REGISTER, checks the answer for
/// `user`'s `password`, grants `grant` seconds, and waits for the refresh (two rounds).
pub fn trunk_registrar(
    dir: &Path,
    ports: Ports,
    (user, password): (&str, &str),
    grant: u32,
) -> SippRun {
    let xml = scenario("trunk_registrar.xml")
        .replace("{{USER}}", user)
        .replace("{{PASS}}", password)
        .replace("{{GRANT}}", &grant.to_string());
    let role = format!("trunk_registrar_{}", ports.sip);
    let files = sipp_files(dir, &role, &xml);
    spawn(&role, dir, files, &["-t".into(), "u1".into()], ports)
}

/// The URI of an agent phone on `ports`, as `[queues.support] agents` lists it.
pub fn agent_uri(ports: Ports) -> String {
    format!("sip:agent@127.0.0.1:{}", ports.sip)
}

impl SippRun {
    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Waits for sipp to exit (killing it at `timeout`) and collects its files.
    pub fn wait(mut self, timeout: Duration) -> SippResult {
        let deadline = Instant::now() + timeout;
        let mut child = self.child.take().expect("sipp child");
        let code = loop {
            match child.try_wait() {
                Ok(Some(st)) => break st.code(),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50))
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
        SippResult {
            code,
            errors: read(&self.files.errors),
            messages: read(&self.files.messages),
            logs: read(&self.files.logs),
            stdout: read(&self.files.stdout),
            elapsed: self.started.elapsed(),
        }
    }
}

impl Drop for SippRun {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs a clip-making tool (espeak-ng, sox); panics with its stderr when it fails.
pub fn run_tool(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}): run scripts/setup.sh"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Speaks `text` with espeak-ng into `<dir>/<name>.ulaw`: raw 8 kHz mono µ-law, what
/// `rtp_stream` plays. Returns the path.
pub fn speech_clip(dir: &Path, name: &str, text: &str) -> PathBuf {
    let wav = dir.join(format!("{name}.espeak.wav"));
    let out = dir.join(format!("{name}.ulaw"));
    run_tool(
        Command::new("espeak-ng")
            .args(["-v", "en-us", "-s", "150", "-w"])
            .arg(&wav)
            .arg(text),
    );
    run_tool(
        Command::new("sox")
            .arg(&wav)
            .args(["-r", "8000", "-c", "1", "-e", "mu-law", "-t", "ul"])
            .arg(&out),
    );
    out
}

/// `<dir>/<name>.ulaw`: `lead` seconds of silence, the DTMF tone for `key` (its two
/// frequencies, each at about -10 dBFS) for `tone` seconds, then `tail` seconds of silence —
/// a key pressed on a phone that cannot send RFC 4733 events.
pub fn dtmf_tone_clip(
    dir: &Path,
    name: &str,
    key: char,
    lead: f64,
    tone: f64,
    tail: f64,
) -> PathBuf {
    let (low, high) = dtmf_freqs(key);
    let out = dir.join(format!("{name}.ulaw"));
    // Two sines mixed (-m): each at amplitude 0.32 ≈ -10 dBFS; pad adds the silences.
    run_tool(
        Command::new("sox")
            .args(["-n", "-r", "8000", "-c", "1", "-e", "mu-law", "-t", "ul"])
            .arg(&out)
            .args(["synth", &format!("{tone}")])
            .args(["sine", &low.to_string(), "sine", &high.to_string()])
            .args(["channels", "1"])
            .args(["pad", &format!("{lead}"), &format!("{tail}")]),
    );
    out
}

/// The (row, column) frequencies of a DTMF key.
pub fn dtmf_freqs(key: char) -> (u32, u32) {
    let rows = [697, 770, 852, 941];
    let cols = [1209, 1336, 1477, 1633];
    let (r, c) = match key {
        '1' => (0, 0),
        '2' => (0, 1),
        '3' => (0, 2),
        'A' => (0, 3),
        '4' => (1, 0),
        '5' => (1, 1),
        '6' => (1, 2),
        'B' => (1, 3),
        '7' => (2, 0),
        '8' => (2, 1),
        '9' => (2, 2),
        'C' => (2, 3),
        '*' => (3, 0),
        '0' => (3, 1),
        '#' => (3, 2),
        'D' => (3, 3),
        other => panic!("not a DTMF key: {other:?}"),
    };
    (rows[r], cols[c])
}

/// Decodes one G.711 µ-law byte to linear 16-bit.
pub fn ulaw_to_linear(u: u8) -> i16 {
    let u = !u;
    let sign = u & 0x80;
    let exponent = (u >> 4) & 0x07;
    let mantissa = u & 0x0f;
    let magnitude = ((((mantissa as i32) << 3) + 0x84) << exponent) - 0x84;
    if sign != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// Starts a phone on `ports` that REGISTERs as `user` with `password` (sipp `-au`/`-ap`,
/// MD5 digest), asking for `expires` seconds, and expects `final_status` after answering the
/// challenge (200 when the password is right, 403 when not).
pub fn registrar_client(
    dir: &Path,
    ports: Ports,
    server: SocketAddr,
    user: &str,
    password: &str,
    expires: u32,
    final_status: u16,
) -> SippRun {
    let xml = scenario("register.xml")
        .replace("{{EXPIRES}}", &expires.to_string())
        .replace("{{FINAL}}", &final_status.to_string());
    let role = format!("register_{user}_{final_status}");
    let files = sipp_files(dir, &role, &xml);
    let extra = vec![
        server.to_string(),
        "-s".into(),
        user.into(),
        "-au".into(),
        user.into(),
        "-ap".into(),
        password.into(),
        "-t".into(),
        "u1".into(),
    ];
    spawn(&role, dir, files, &extra, ports)
}
