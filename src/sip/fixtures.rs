//! Captured-style messages from the clients humanline must interoperate with (test only).

/// `head` (LF line ends, no Content-Length) + Content-Length + blank line + `body`, all CRLF.
pub fn message(head: &str, length_name: &str, body: &str) -> Vec<u8> {
    let body = body.replace('\n', "\r\n");
    let mut text = head.replace('\n', "\r\n");
    text.push_str(&format!("{length_name}: {}\r\n\r\n{body}", body.len()));
    text.into_bytes()
}

/// sipp 3.6 built-in `uac` scenario: INVITE with an SDP offer for PCMU only.
pub fn sipp_invite() -> Vec<u8> {
    message(
        "INVITE sip:service@127.0.0.1:5060 SIP/2.0
Via: SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-3131-1-0
From: sipp <sip:sipp@127.0.1.1:5061>;tag=3131SIPpTag001
To: service <sip:service@127.0.0.1:5060>
Call-ID: 1-3131@127.0.1.1
CSeq: 1 INVITE
Contact: sip:sipp@127.0.1.1:5061
Max-Forwards: 70
Subject: Performance Test
Content-Type: application/sdp
",
        "Content-Length",
        "v=0
o=user1 53655765 2353687637 IN IP4 127.0.1.1
s=-
c=IN IP4 127.0.1.1
t=0 0
m=audio 6000 RTP/AVP 0
a=rtpmap:0 PCMU/8000
",
    )
}

/// baresip 1.0 INVITE written with compact header names, opus first, video ignored.
pub fn baresip_invite() -> Vec<u8> {
    message(
        "INVITE sip:100@192.168.1.5 SIP/2.0
v: SIP/2.0/UDP 192.168.1.23:41350;branch=z9hG4bK0fd2a9a4b8c1e1a7;rport
Max-Forwards: 70
t: <sip:100@192.168.1.5>
f: \"Alice\" <sip:alice@192.168.1.5>;tag=6f0b6d9a0b3e3c1d
i: 3c2f8a0e96c4b7a1
CSeq: 16420 INVITE
m: <sip:alice-0x55d1@192.168.1.23:41350;transport=udp>;expires=3600
User-Agent: baresip v1.0.0 (x86_64/linux)
Allow: INVITE,ACK,BYE,CANCEL,OPTIONS,NOTIFY,SUBSCRIBE,INFO,MESSAGE,UPDATE,REFER
k: replaces,norefersub
c: application/sdp
",
        "l",
        "v=0
o=- 1803612170 1217624839 IN IP4 192.168.1.23
s=-
c=IN IP4 192.168.1.23
t=0 0
a=tool:baresip 1.0.0
m=audio 10028 RTP/AVP 96 9 0 8 101
b=AS:128
a=rtpmap:96 opus/48000/2
a=fmtp:96 stereo=1;sprop-stereo=1
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=ptime:20
a=sendrecv
m=video 10030 RTP/AVP 102
a=rtpmap:102 H264/90000
a=sendrecv
",
    )
}

/// An OPTIONS ping (as sent by monitoring probes and proxies).
pub fn options() -> Vec<u8> {
    message(
        "OPTIONS sip:humanline@10.0.0.5:5060 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.9:5060;branch=z9hG4bK-ping-77;rport
Max-Forwards: 70
From: <sip:monitor@10.0.0.9>;tag=mon77
To: <sip:humanline@10.0.0.5:5060>
Call-ID: ping-77@10.0.0.9
CSeq: 77 OPTIONS
Accept: application/sdp
",
        "Content-Length",
        "",
    )
}

/// A linphone REGISTER of an agent phone, with a quoted comma inside a Contact parameter.
pub fn linphone_register() -> Vec<u8> {
    message(
        "REGISTER sip:10.0.0.5 SIP/2.0
Via: SIP/2.0/UDP 192.168.1.40:5060;branch=z9hG4bK.Xq0rZ1y2;rport
From: <sip:agent7@10.0.0.5>;tag=1Dk2~Zx9
To: sip:agent7@10.0.0.5
CSeq: 20 REGISTER
Call-ID: c9U8zTRcbD
Max-Forwards: 70
Supported: replaces, outbound, gruu
Accept: application/sdp
Accept: text/plain
Contact: <sip:agent7@192.168.1.40;transport=udp>;+sip.instance=\"<urn:uuid:a1b2c3d4-0000-0000-0000-000000000001>\";+org.linphone.specs=\"groupchat,lime\"
Expires: 3600
User-Agent: Linphone Desktop/4.4.0 (Debian) LinphoneCore/5.0.0
",
        "Content-Length",
        "",
    )
}

/// sipp's 200 OK answer (uas scenario) to [`sipp_invite`].
pub fn sipp_200() -> Vec<u8> {
    message(
        "SIP/2.0 200 OK
Via: SIP/2.0/UDP 127.0.1.1:5061;branch=z9hG4bK-3131-1-0
From: sipp <sip:sipp@127.0.1.1:5061>;tag=3131SIPpTag001
To: service <sip:service@127.0.0.1:5060>;tag=4242SIPpTag012
Call-ID: 1-3131@127.0.1.1
CSeq: 1 INVITE
Record-Route: <sip:p2.example.com;lr>, <sip:p1.example.com;lr>
Contact: <sip:127.0.0.1:5060;transport=UDP>
Content-Type: application/sdp
",
        "Content-Length",
        "v=0
o=user1 53655765 2353687637 IN IP4 127.0.0.1
s=-
c=IN IP4 127.0.0.1
t=0 0
m=audio 6002 RTP/AVP 0
a=rtpmap:0 PCMU/8000
",
    )
}

/// Every sample message above, for tests that run over all of them.
pub fn all() -> Vec<Vec<u8>> {
    vec![
        sipp_invite(),
        baresip_invite(),
        options(),
        linphone_register(),
        sipp_200(),
    ]
}
