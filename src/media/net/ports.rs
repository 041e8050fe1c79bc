//! RTP ports: even ports from the configured range, handed out round-robin so a port just
//! released is not reused at once (late packets of the old call would land in the new one).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::net::UdpSocket;

/// The configured RTP port range.
#[derive(Debug)]
pub struct PortPool {
    min: u16,
    count: u32,
    next: AtomicU32,
}

impl PortPool {
    /// Even ports in `min..=max`.
    pub fn new(min: u16, max: u16) -> Self {
        let min = min + (min % 2);
        let count = (u32::from(max.max(min)) - u32::from(min)) / 2 + 1;
        PortPool {
            min,
            count,
            next: AtomicU32::new(0),
        }
    }

    /// Binds a UDP socket on the next free even port of the range.
    pub async fn bind(&self, ip: IpAddr) -> std::io::Result<UdpSocket> {
        let mut last = None;
        for _ in 0..self.count.min(512) {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % self.count;
            let port = u32::from(self.min) + 2 * i;
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
