//! RTP ports: even ports from the configured range, picked at random (an attacker cannot guess
//! the next call's port from the last one's) but never one of the most recently handed out, so
//! a port just released is not reused at once (late packets of the old call would land in the
//! new one).

use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use tokio::net::UdpSocket;

/// Ports remembered as recently handed out (at most half the range).
const RECENT: usize = 256;

/// The configured RTP port range.
#[derive(Debug)]
pub struct PortPool {
    min: u16,
    count: u32,
    recent: Mutex<VecDeque<u32>>,
}

impl PortPool {
    /// Even ports in `min..=max`.
    pub fn new(min: u16, max: u16) -> Self {
        let min = min + (min % 2);
        let count = (u32::from(max.max(min)) - u32::from(min)) / 2 + 1;
        PortPool {
            min,
            count,
            recent: Mutex::new(VecDeque::new()),
        }
    }

    /// The next index to try: random, skipping the recently handed out ones.
    fn pick(&self) -> u32 {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        let keep = RECENT.min(self.count as usize / 2);
        let start = crate::ids::random_u32() % self.count;
        let i = (0..self.count)
            .map(|k| (start + k) % self.count)
            .find(|i| !recent.contains(i))
            .unwrap_or(start);
        recent.push_back(i);
        while recent.len() > keep {
            recent.pop_front();
        }
        i
    }

    /// Binds a UDP socket on a free even port of the range, chosen at random.
    pub async fn bind(&self, ip: IpAddr) -> std::io::Result<UdpSocket> {
        let mut last = None;
        for _ in 0..self.count.min(512) {
            let port = u32::from(self.min) + 2 * self.pick();
            let Ok(port) = u16::try_from(port) else {
                continue;
            };
            match UdpSocket::bind(SocketAddr::new(ip, port)).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("RTP port range is empty")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn ports_are_even_random_and_not_reused_soon() {
        let pool = PortPool::new(20000, 20198);
        assert_eq!(pool.count, 100);
        let picks: Vec<u32> = (0..200).map(|_| pool.pick()).collect();
        for w in picks.windows(50) {
            let distinct: HashSet<_> = w.iter().collect();
            assert_eq!(distinct.len(), 50, "no index twice within half the range");
        }
        let sequential = picks
            .windows(2)
            .filter(|w| w[1] == (w[0] + 1) % 100)
            .count();
        assert!(
            sequential < 20,
            "not handed out in order: {sequential} of 199"
        );
    }

    #[tokio::test]
    async fn binds_even_ports_inside_the_range() {
        let pool = PortPool::new(21001, 21099);
        for _ in 0..10 {
            let s = pool.bind("127.0.0.1".parse().unwrap()).await.unwrap();
            let p = s.local_addr().unwrap().port();
            assert!((21002..=21098).contains(&p) && p % 2 == 0, "{p}");
        }
    }
}
