//! A call's RTP socket: read through the tokio runtime, written at once.
//!
//! tokio's `UdpSocket` registers every socket for readability *and* writability, edge-
//! triggered. For a socket that sends 50 packets a second that is a wake-up per packet: each
//! time the kernel frees a sent packet's buffer (at once on loopback and fast links) the
//! socket turns writable again, epoll reports it and the runtime's IO driver wakes to mark a
//! readiness nobody waits for. At 2,000 calls that was 100,000 wake-ups a second and most of
//! the server's context switches. This socket is registered for readability only; a send is
//! one non-blocking `sendto`, and a packet the kernel cannot take at once is dropped (for
//! audio, a packet that waits is a late packet).

use std::io;
use std::net::SocketAddr;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

/// An RTP socket: received through the runtime, sent without waiting.
#[derive(Debug)]
pub struct RtpSocket {
    fd: AsyncFd<std::net::UdpSocket>,
}

impl RtpSocket {
    /// Takes over `socket` (bound by the port pool) for reading only through the runtime.
    pub fn new(socket: tokio::net::UdpSocket) -> io::Result<Self> {
        let std = socket.into_std()?;
        std.set_nonblocking(true)?;
        // SAFETY: the std socket owns its descriptor, which stays open and the same until the
        // `AsyncFd` (its only owner) is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(std, Interest::READABLE) };
        Ok(RtpSocket {
            fd: fd.map_err(|e| e.into_parts().1)?,
        })
    }

    /// Waits for the next datagram.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.fd
            .async_io(Interest::READABLE, |s| s.recv_from(buf))
            .await
    }

    /// Waits until a datagram is waiting, without reading it (then [`try_recv_from`]).
    ///
    /// [`try_recv_from`]: RtpSocket::try_recv_from
    pub async fn readable(&self) -> io::Result<()> {
        // Dropping the guard keeps the readiness: `try_recv_from` clears it when it finds
        // nothing.
        self.fd.readable().await.map(drop)
    }

    /// A datagram if one is waiting (`WouldBlock` otherwise).
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.fd.try_io(Interest::READABLE, |s| s.recv_from(buf))
    }

    /// Sends `buf` to `to` now; `WouldBlock` when the kernel's buffer is full (dropped).
    pub fn try_send_to(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
        self.fd.get_ref().send_to(buf, to)
    }

    /// [`try_send_to`](RtpSocket::try_send_to), for callers written for an async socket: it
    /// never waits.
    pub async fn send_to(&self, buf: &[u8], to: SocketAddr) -> io::Result<usize> {
        self.try_send_to(buf, to)
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.fd.get_ref().local_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn socket() -> RtpSocket {
        let s = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        RtpSocket::new(s).unwrap()
    }

    #[tokio::test]
    async fn datagrams_go_out_at_once_and_are_read_through_the_runtime() {
        let (a, b) = (socket().await, socket().await);
        let to = b.local_addr().unwrap();
        assert_eq!(a.try_send_to(b"one", to).unwrap(), 3);
        a.send_to(b"two", to).await.unwrap();
        let mut buf = [0u8; 16];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"one"[..], a.local_addr().unwrap()));
        b.readable().await.unwrap();
        let (n, _) = b.try_recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"two");
        let empty = b.try_recv_from(&mut buf).unwrap_err();
        assert_eq!(empty.kind(), io::ErrorKind::WouldBlock);
        // Readiness was cleared: the next wait is for the next datagram.
        let wait = tokio::time::timeout(std::time::Duration::from_millis(50), b.readable());
        assert!(wait.await.is_err(), "nothing waiting");
        a.try_send_to(b"three", to).unwrap();
        b.readable().await.unwrap();
        assert_eq!(b.try_recv_from(&mut buf).unwrap().0, 5);
    }
}
