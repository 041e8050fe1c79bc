//! Media: G.711 audio, RTP packets, DTMF (RFC 4733 and in-band), jitter buffer, prompt playback
//! and call recording. Pure and synchronous: no sockets, no clocks, no tasks. The call task in
//! `server/` owns the sockets and the 20 ms tick and calls into these pieces.
