// humanline web phone: every word the page shows, in English and Mandarin. The page speaks its
// line's language (the server sets <html lang>); the language button switches. Exposes
// `window.phoneText = { LANGS, text(lang, key), why(lang, words), htmlLang(lang) }`.
'use strict';

(() => {
  const TEXT = {
    en: {
      pageTitle: 'Call support · humanline',
      title: 'Call support',
      display: 'Display',
      otherLanguage: '中文',
      otherLanguageTag: 'zh-CN',
      large: 'Larger text',
      contrast: 'High contrast',
      intro: 'Call us from this page. You can talk to a person at any time.',
      line: 'Line',
      lineNames: { en: 'English', zh: 'Mandarin 中文' },
      idle: 'Not connected. Press Call to start.',
      callNumber: 'Call number:',
      call: 'Call',
      hangup: 'Hang up',
      human: 'Talk to a person',
      hintBefore: 'Connects you to a person straight away (the same as pressing ',
      hintAfter: ').',
      captions: 'Captions',
      captionsEmpty: 'What the line says, and what it heard you say, appears here during the call.',
      speakerLine: 'Line:',
      speakerCaller: 'You:',
      hearing: 'Hearing you…',
      keypad: 'Keypad',
      star: 'star',
      hash: 'hash',
      keysPressed: 'Keys pressed:',
      keyboard: 'Keyboard: Tab moves between the buttons, Enter or Space presses one; type 0–9, * and # to send keys in a call.',
      connecting: 'Connecting…',
      ivr: 'Connected',
      queued: 'In the queue: a person will be with you soon',
      ringing_agent: 'Calling a person for you…',
      bridged: 'Talking to a person',
      message: 'Nobody is free: please leave a message after the tone',
      toPerson: 'Connecting you to a person…',
      ended: 'Call ended: {why}',
    },
    zh: {
      pageTitle: '拨打客服 · humanline',
      title: '拨打客服电话',
      display: '显示',
      otherLanguage: 'English',
      otherLanguageTag: 'en',
      large: '放大字体',
      contrast: '高对比度',
      intro: '在这个页面上就可以给我们打电话。您随时可以找人工客服。',
      line: '线路',
      lineNames: { en: '英语 English', zh: '中文' },
      idle: '未接通。请按“拨打”开始。',
      callNumber: '通话编号：',
      call: '拨打',
      hangup: '挂断',
      human: '转人工客服',
      hintBefore: '马上为您转接人工客服（和按',
      hintAfter: '键一样）。',
      captions: '字幕',
      captionsEmpty: '通话时，线路播放的话和听到您说的话会显示在这里。',
      speakerLine: '线路：',
      speakerCaller: '您：',
      hearing: '正在听您说…',
      keypad: '拨号键盘',
      star: '星号',
      hash: '井号',
      keysPressed: '已按的键：',
      keyboard: '键盘操作：按 Tab 键在按钮之间移动，按回车键或空格键按下按钮；通话中直接输入 0–9、* 和 # 发送按键。',
      connecting: '正在接通…',
      ivr: '已接通',
      queued: '正在排队：人工客服马上为您服务',
      ringing_agent: '正在为您呼叫人工客服…',
      bridged: '正在与人工客服通话',
      message: '现在没有空闲的客服：请在提示音后留言',
      toPerson: '正在为您转接人工客服…',
      ended: '通话结束：{why}',
    },
  };

  // Why a call ended, as the server says it (English), in Mandarin.
  const WHY_ZH = {
    'you hung up': '您已挂断',
    'the line ended the call': '线路已结束通话',
    'the line hung up': '线路已挂断',
    'the connection to the server was lost': '与服务器的连接已断开',
    'busy, try again later': '线路忙，请稍后再试',
    'this line does not exist': '这条线路不存在',
    'the line did not answer': '线路没有应答',
    'the line cannot take this audio': '线路无法接收这种音频',
    "the line's answer could not be used": '线路的应答无法使用',
    'the audio connection failed': '音频连接失败',
    'the audio connection was lost': '音频连接已断开',
    'the audio connection could not be made': '无法建立音频连接',
    'the page did not answer (microphone not allowed?)': '页面没有应答（是否未允许使用麦克风？）',
    'the page was closed': '页面已关闭',
    'the server could not set up audio, try again later': '服务器无法建立音频，请稍后再试',
    'the server could not place the call, try again later': '服务器无法拨出电话，请稍后再试',
    'this browser allows the microphone only on https:// pages (or on localhost)':
      '此浏览器只允许 https:// 页面（或本机页面）使用麦克风',
    'this page may not use your microphone; allow it and call again': '此页面无法使用您的麦克风；请允许后再拨打',
  };

  const LANGS = Object.keys(TEXT);

  /** The words for `key` in `lang` (English when missing), with {name} filled from `vars`. */
  function text(lang, key, vars) {
    const t = (TEXT[lang] || TEXT.en)[key];
    const s = t === undefined ? TEXT.en[key] : t;
    if (typeof s !== 'string' || !vars) return s;
    return s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  }

  /** The server's reason for an ended call, in `lang` (as sent when no translation is known). */
  function why(lang, words) {
    return lang === 'zh' ? WHY_ZH[words] || words : words;
  }

  /** The value of <html lang> for `lang`. */
  function htmlLang(lang) {
    return lang === 'zh' ? 'zh-CN' : 'en';
  }

  window.phoneText = { LANGS, text, why, htmlLang };
})();
