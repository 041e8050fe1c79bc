//! A real softphone (baresip 1.x) as a caller: its own config dir, a WAV file as microphone, and
//! the `sndfile` module recording what it hears. Driven through its console on stdin.
//!
//! Learned by experiment with baresip 1.0.0: `aufile` is only an audio *source* in this
//! version, so the player is an `aubridge` device nobody reads and `sndfile` dumps the decoded
//! audio to `<snd_path>/dump-*-dec.wav`; when the source file ends baresip hangs up the call
//! ("menu: audio error (0,end of file)"), so the microphone clip must outlast the call; digits
//! typed during a call are sent as DTMF (RFC 4733 when the answer has telephone-event); `b`
//! hangs up and `q` quits.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Whether baresip and the modules these tests need are installed.
pub fn available() -> bool {
    let modules = Path::new("/usr/lib/baresip/modules");
    Command::new("baresip")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
        && ["stdio", "g711", "aufile", "sndfile", "aubridge"]
            .iter()
            .all(|m| modules.join(format!("{m}.so")).exists())
}

/// Writes `secs` of 8 kHz mono 16-bit silence to `path`.
pub fn write_silence(path: &Path, secs: f64) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create the microphone clip");
    for _ in 0..(secs * 8000.0) as usize {
        w.write_sample(0i16).unwrap();
    }
    w.finalize().unwrap();
}

/// How a baresip is set up beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// SIP over TLS: the CA file (our self-signed certificate) baresip trusts; its account
    /// says `transport=tls`.
    pub tls_ca: Option<PathBuf>,
    /// Load the `srtp` module and make SRTP mandatory (`mediaenc=srtp-mand`).
    pub srtp: bool,
    /// Register this account (an agent's phone): its address of record, e.g.
    /// `sip:alice@127.0.0.1:5061;transport=tls`, and its password (MD5 digest only).
    pub register: Option<(String, String)>,
    /// Answer incoming calls at once (`answermode=auto`).
    pub auto_answer: bool,
}

/// Whether baresip's `srtp` module is installed.
pub fn has_srtp() -> bool {
    Path::new("/usr/lib/baresip/modules/srtp.so").exists()
}

/// A running baresip, killed on drop.
pub struct Baresip {
    pub dir: tempfile::TempDir,
    pub sip_port: u16,
    /// Its RTP port range (first, last).
    pub rtp_ports: (u16, u16),
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<String>>,
}

impl Baresip {
    /// Starts baresip listening on 127.0.0.1 with `mic` (8 kHz mono WAV) as its microphone.
    pub fn start(mic: &Path) -> Baresip {
        Self::start_with(mic, &Options::default())
    }

    /// Starts baresip as [`Baresip::start`] does, set up as `opts` says.
    pub fn start_with(mic: &Path, opts: &Options) -> Baresip {
        let dir = tempfile::tempdir().expect("temp dir");
        let cfg = dir.path().join("cfg");
        let snd = dir.path().join("snd");
        std::fs::create_dir_all(&cfg).unwrap();
        std::fs::create_dir_all(&snd).unwrap();
        let sip_port = super::server::free_port();
        // RTP below the kernel's ephemeral range and above the servers' 20000-29999.
        let rtp = 30000 + (std::process::id() % 40) as u16 * 50;
        let mut extra = String::new();
        if let Some(ca) = &opts.tls_ca {
            extra.push_str(&format!("sip_cafile\t\t{}\n", ca.display()));
        }
        if opts.srtp {
            extra.push_str("module\t\t\tsrtp.so\n");
        }
        let config = format!(
            "poll_method\t\tepoll\n\
             sip_listen\t\t127.0.0.1:{sip_port}\n\
             sip_trans_def\t\tudp\n\
             net_interface\t\t127.0.0.1\n\
             audio_player\t\taubridge,nowhere\n\
             audio_source\t\taufile,{mic}\n\
             audio_alert\t\taubridge,nowhere\n\
             audio_srate\t\t8000\n\
             audio_channels\t\t1\n\
             rtp_ports\t\t{rtp}-{rtp_end}\n\
             module_path\t\t/usr/lib/baresip/modules\n\
             module\t\t\tstdio.so\n\
             module\t\t\tg711.so\n\
             module\t\t\taufile.so\n\
             module\t\t\taubridge.so\n\
             module\t\t\tsndfile.so\n\
             module_app\t\taccount.so\n\
             module_app\t\tmenu.so\n\
             snd_path\t\t{snd}\n{extra}",
            mic = mic.display(),
            rtp_end = rtp + 48,
            snd = snd.display(),
        );
        std::fs::write(cfg.join("config"), config).unwrap();
        let mut account = match &opts.register {
            Some((aor, password)) => format!("<{aor}>;auth_pass={password};regint=600"),
            None if opts.tls_ca.is_some() => "<sip:tester@127.0.0.1;transport=tls>;regint=0".into(),
            None => "<sip:tester@127.0.0.1>;regint=0".into(),
        };
        if opts.auto_answer {
            account.push_str(";answermode=auto");
        }
        if opts.srtp {
            account.push_str(";mediaenc=srtp-mand");
        }
        std::fs::write(cfg.join("accounts"), format!("{account}\n")).unwrap();
        let mut child = Command::new("baresip")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn baresip");
        let out = Arc::new(Mutex::new(String::new()));
        for mut stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let out = out.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    out.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        let stdin = child.stdin.take();
        let b = Baresip {
            dir,
            sip_port,
            rtp_ports: (rtp, rtp + 48),
            child,
            stdin,
            out,
        };
        if !b.wait_output("baresip is ready", Duration::from_secs(10)) {
            panic!("baresip did not start:\n{}", b.output());
        }
        b
    }

    /// Everything baresip printed so far (the periodic status line removed).
    pub fn output(&self) -> String {
        let raw = self.out.lock().unwrap().clone();
        raw.split('\r')
            .filter(|l| !l.trim_start().starts_with("[0:"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Polls the output until it contains `needle`.
    pub fn wait_output(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.out.lock().unwrap().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Types `text` on baresip's console.
    pub fn type_text(&mut self, text: &str) {
        let stdin = self.stdin.as_mut().expect("baresip stdin open");
        stdin.write_all(text.as_bytes()).expect("write to baresip");
        stdin.flush().unwrap();
    }

    /// Dials `uri`.
    pub fn dial(&mut self, uri: &str) {
        self.type_text(&format!("/dial {uri}\n"));
    }

    /// Presses one key (a digit during a call sends DTMF).
    pub fn key(&mut self, k: char) {
        self.type_text(&k.to_string());
    }

    /// Hangs up, quits and waits (at most `timeout`) for baresip to exit, so its recordings
    /// are complete.
    /// After `dial`: the server answers, baresip sees the call established, and pressing 1
    /// once the demo plan's menu is being asked (the welcome prompt is 7 s) reaches billing.
    /// `how` names the call in failure messages.
    pub fn answered_then_one_reaches_billing(
        &mut self,
        server: &super::server::TestServer,
        how: &str,
    ) {
        assert!(
            server.wait_active(1, Duration::from_secs(10)),
            "{how}: the call is answered:\n{}\nserver log:\n{}",
            self.output(),
            server.log()
        );
        let answered = Instant::now();
        assert!(
            self.wait_output("Call established", Duration::from_secs(5)),
            "{how}: baresip sees the call established:\n{}",
            self.output()
        );
        std::thread::sleep(Duration::from_secs(8).saturating_sub(answered.elapsed()));
        self.key('1');
        let reached = server.wait_for(Duration::from_secs(6), |s| {
            s.live_calls().into_iter().find(|c| {
                c["path"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|n| n == "billing"))
            })
        });
        assert!(
            reached.is_some(),
            "{how}: pressing 1 in the menu reaches billing; live calls: {:?}\nbaresip:\n{}",
            server.live_calls(),
            self.output()
        );
    }

    pub fn hangup_and_quit(&mut self, timeout: Duration) {
        self.key('b');
        std::thread::sleep(Duration::from_millis(300));
        self.key('q');
        self.stdin = None;
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The WAV of what baresip heard (decoded audio), once the call has started.
    pub fn heard_wav(&self) -> Option<PathBuf> {
        std::fs::read_dir(self.dir.path().join("snd"))
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "---- baresip output ----\n{}\n---- end of baresip output ----",
                self.output()
            );
        }
    }
}
