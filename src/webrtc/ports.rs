//! The UDP port of a WebRTC peer: the odd ports of the configured RTP range, round-robin.
//!
//! The `webrtc` crate binds the socket itself from an address it is given and has no port-range
//! setting, so a free port is found here by binding it once and letting it go just before the
//! crate binds it again. A port lost to someone else in that instant makes the crate's bind
//! fail, and the caller tries the next one. The SIP legs (`server::ports`) use the even ports
//! of the same range, so the two pools never meet.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Up to `max_tries` candidate addresses on `ip`, each free when it was yielded.
pub(super) fn free_addrs(
    ip: IpAddr,
    min: u16,
    max: u16,
    max_tries: usize,
) -> impl Iterator<Item = SocketAddr> {
    let first = u32::from(min | 1);
    let count = if u32::from(max) >= first {
        (u32::from(max) - first) / 2 + 1
    } else {
        0
    };
    (0..count.min(max_tries as u32)).filter_map(move |_| {
        let i = NEXT.fetch_add(1, Ordering::Relaxed) % count;
        let port = u16::try_from(first + 2 * i).ok()?;
        let addr = SocketAddr::new(ip, port);
        UdpSocket::bind(addr).ok().map(|_probe| addr)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_odd_and_inside_the_range() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let addrs: Vec<_> = free_addrs(ip, 41000, 41019, 100).collect();
        assert!(!addrs.is_empty());
        for a in &addrs {
            assert!(
                a.port() % 2 == 1 && (41001..=41019).contains(&a.port()),
                "{a}"
            );
        }
        assert!(addrs.len() <= 10, "only 10 odd ports in 41000-41019");
    }

    #[test]
    fn a_busy_port_is_skipped() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let held = UdpSocket::bind("127.0.0.1:41101").unwrap();
        let addrs: Vec<_> = free_addrs(ip, 41100, 41103, 10).collect();
        assert!(addrs.iter().all(|a| a.port() != 41101), "{addrs:?}");
        drop(held);
    }

    #[test]
    fn an_empty_range_yields_nothing() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(free_addrs(ip, 41200, 41200, 10).count(), 0);
    }
}
