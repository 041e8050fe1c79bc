//! What a [`super::MediaPeer`] negotiates: PCMU and telephone-event/8000, nothing else.

use super::sdp;
use super::shared::{stack, WebRtcError, PT_PCMU, PT_TELEPHONE_EVENT};
use ::webrtc::peer_connection::MediaEngine;
use rtc::peer_connection::configuration::media_engine::{
    MIME_TYPE_PCMU, MIME_TYPE_TELEPHONE_EVENT,
};
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};

pub(super) fn pcmu_codec() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: MIME_TYPE_PCMU.to_owned(),
        clock_rate: 8000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: vec![],
    }
}

pub(super) fn telephone_event_codec() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: MIME_TYPE_TELEPHONE_EVENT.to_owned(),
            clock_rate: 8000,
            channels: 0,
            sdp_fmtp_line: "0-16".to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type: PT_TELEPHONE_EVENT,
    }
}

pub(super) fn media_engine() -> Result<MediaEngine, WebRtcError> {
    let mut me = MediaEngine::default();
    me.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: pcmu_codec(),
            payload_type: PT_PCMU,
        },
        RtpCodecKind::Audio,
    )
    .map_err(stack("register PCMU"))?;
    me.register_codec(telephone_event_codec(), RtpCodecKind::Audio)
        .map_err(stack("register telephone-event"))?;
    Ok(me)
}

/// Our own offer or answer must put PCMU first in its audio section: anything else is a bug
/// here or in the crate, better caught before a browser sees it.
pub(super) fn own_sdp_is_pcmu(sdp: &str) -> Result<(), WebRtcError> {
    let pts = sdp::offered_payload_types(sdp);
    if pts.first() == Some(&PT_PCMU) {
        Ok(())
    } else {
        Err(WebRtcError::NoPcmu { offered: pts })
    }
}
