//! Tests of [`super::PersonRequests`]: requests, refusals, reports and near misses in both
//! languages.

use super::*;

fn judge(text: &str) -> PersonAsk {
    PersonRequests::new(&[], MatchConfig::default()).judge(text)
}

fn is_request(text: &str) -> bool {
    matches!(judge(text), PersonAsk::Request { .. })
}

/// Every one of `texts` is a request.
fn requests(texts: &[&str]) {
    for t in texts {
        assert!(is_request(t), "{t:?}: {:?}", judge(t));
    }
}

/// Every one of `texts` is a refusal: a person named under a negator.
fn negated(texts: &[&str]) {
    for t in texts {
        assert!(
            matches!(
                judge(t),
                PersonAsk::Mention {
                    why: NotARequest::Negated,
                    ..
                }
            ),
            "{t:?}: {:?}",
            judge(t)
        );
    }
}

/// None of `texts` is a request.
fn not_requests(texts: &[&str]) {
    for t in texts {
        assert!(!is_request(t), "{t:?}: {:?}", judge(t));
    }
}

#[test]
fn requests_in_many_shapes_are_requests() {
    requests(&[
        "agent",
        "Operator!",
        "an agent please",
        "can I talk to a human",
        "I'd like to speak with customer service please",
        "put me through to someone",
        "I need a real person",
        "get me a representative",
        "is there somebody I can talk to",
        "I want a person because my bill is wrong",
        "I already spoke to an agent yesterday but I want a real person now",
    ]);
}

#[test]
fn mandarin_requests_are_requests() {
    requests(&[
        "转人工",
        "我要人工服务",
        "帮我接客服",
        "我想找真人",
        "人工",
        "有人吗",
        "我要找人",
    ]);
}

#[test]
fn negated_mentions_are_not_requests() {
    negated(&[
        "I don't want an operator, tell me the opening hours",
        "no agent, I just want my balance",
        "I do not need a representative",
        "我不要人工，我想问营业时间",
        "不用转人工",
    ]);
}

#[test]
fn reported_mentions_are_not_requests() {
    for t in [
        "the agent I spoke to yesterday said my parcel was coming",
        "your operator told me the bill was wrong",
        "昨天客服说我的包裹到了",
        "agent, I spoke to yesterday, bad my parcel was coming",
    ] {
        assert!(
            matches!(
                judge(t),
                PersonAsk::Mention {
                    why: NotARequest::Reported,
                    ..
                }
            ),
            "{t:?}: {:?}",
            judge(t)
        );
    }
}

#[test]
fn a_refusal_then_a_request_is_a_request() {
    assert!(is_request("I don't want a robot, I want a human"));
    assert!(is_request("我不要机器人，我要人工"));
}

#[test]
fn weak_words_need_a_request_around_them() {
    assert_eq!(judge("someone stole my phone"), PersonAsk::Nothing);
    assert_eq!(judge("有人偷了我的手机"), PersonAsk::Nothing);
    assert!(is_request("can I talk to someone"));
}

#[test]
fn a_name_with_nothing_around_it_is_unsure() {
    assert!(matches!(
        judge("is this the customer service line for billing"),
        PersonAsk::Unsure { .. }
    ));
}

#[test]
fn a_misheard_name_inside_a_request_is_a_request() {
    requests(&[
        "I want to talk to a reprisentator",
        "can I speak to an opperater",
        "我要承认",
    ]);
    // Outside a request frame, sounding alike is nothing.
    assert_eq!(judge("the weather is nice"), PersonAsk::Nothing);
    assert_eq!(judge("我要查账单"), PersonAsk::Nothing);
    assert_eq!(judge("I want to pay my bill"), PersonAsk::Nothing);
    assert_eq!(judge("I want to check my balance"), PersonAsk::Nothing);
}

#[test]
fn a_verb_of_talking_asks_for_someone_whatever_whisper_made_of_the_person() {
    for t in [
        "I want to speak to a photon.",
        "can I talk to you, men?",
        "post me through cash on one",
        "我想跟 证证, 话,",
        "我想跟证证说话",
        "in a few minutes I can talk to.",
        "is there a cuban there I can speak with",
    ] {
        assert!(
            matches!(
                judge(t),
                PersonAsk::Request {
                    named: false,
                    framed: true,
                    ..
                }
            ),
            "{t:?}: {:?}",
            judge(t)
        );
    }
    // Not asked: refused, reported, or no object at all.
    for t in [
        "I don't want to talk to him about it",
        "the engineer said he would talk to my landlord",
        "I spoke to a photon",
        "can I talk to you",
        "我不想跟他说话",
        "我想跟踪我的订单",
        "昨天我跟他说话了",
    ] {
        assert!(
            !matches!(judge(t), PersonAsk::Request { .. }),
            "{t:?}: {:?}",
            judge(t)
        );
    }
}

#[test]
fn a_name_before_the_verb_that_asks_for_it_is_a_request() {
    for t in [
        "in the human I can talk to",
        "is the right human I can talk to.",
    ] {
        assert!(
            matches!(judge(t), PersonAsk::Request { named: true, .. }),
            "{t:?}: {:?}",
            judge(t)
        );
    }
    assert!(!is_request(
        "the agent I talked to said my parcel was coming"
    ));
}

#[test]
fn a_mandarin_name_that_ends_the_utterance_is_asked_for() {
    requests(&[
        "账业, 华丞, 客服,",
        "单, 华费, 客服,",
        "麻烦您 转一下 人工吧",
    ]);
    not_requests(&[
        "客服说我的包裹到了",
        "不用转人工",
        "你们的客服, 我今天会送快递,",
    ]);
}

#[test]
fn a_name_called_out_first_is_a_request_but_not_one_in_so_many_words() {
    // Called out first, it is a request at the end of a turn, but not one a partial may
    // act on: "agent, type, boat" was whisper's early look at "The agent I spoke to…".
    assert!(matches!(
        judge("agent, type, boat, registered"),
        PersonAsk::Request { framed: false, .. }
    ));
    assert!(is_request("Agent, please."));
    let framed = |t: &str| matches!(judge(t), PersonAsk::Request { framed: true, .. });
    assert!(framed("can I talk to an agent"));
    assert!(!framed("agent"));
}

#[test]
fn whisper_commas_do_not_hide_a_request() {
    assert!(is_request("connect, meet one agent"));
    assert!(is_request(
        "Operator, my internet has been down for three days"
    ));
    assert!(is_request("No, I want an agent"));
    assert!(!is_request(
        "I don't want an operator, tell me the opening hours"
    ));
    assert!(!is_request(
        "agent, I spoke to yesterday, bad my parcel was coming"
    ));
    // "The agent, …" is someone known being talked about; "an agent, …" is called for.
    assert!(!is_request(
        "the agent, I post the letter, the letter, my parcel, one coming"
    ));
    assert!(!is_request("that operator, my bill is still wrong"));
    assert!(is_request("an agent, my bill is still wrong"));
    assert!(
        is_request("the operator please"),
        "a request in so many words"
    );
}

/// Whisper given a prompt ending in 人工, 客服 sometimes writes the name first and then scraps
/// of the answer ("你们周末营业吗" came out as "人工, 营业,"): not a request in so many words.
#[test]
fn a_mandarin_name_heading_a_list_of_scraps_is_unsure() {
    for t in [
        "人工, 营业,",
        "人工, 人家,",
        "人工, 人工, 营业,",
        "客服, 理工, 物流",
    ] {
        assert!(
            matches!(judge(t), PersonAsk::Unsure { .. }),
            "{t:?}: {:?}",
            judge(t)
        );
    }
    requests(&[
        ", 人工,",
        "人工, 人工",
        "人工, 我的网络坏了",
        "盘我, 客服,",
        "我要人工, 快点",
        "operator, pleam, operator, pleam,",
    ]);
}

/// Whisper's slips for a long name said on its own ("representative" heard as "reprimand
/// atini") are asked about, never transferred on their own; everyday answers of one or two
/// long words are not taken for names.
#[test]
fn a_long_name_misheard_on_its_own_is_unsure() {
    for t in [
        "reprimand atini",
        "costumer surface",
        "upper rater",
        "the representer",
    ] {
        assert!(
            matches!(judge(t), PersonAsk::Unsure { .. }),
            "{t:?}: {:?}",
            judge(t)
        );
    }
    for t in [
        "opening hours",
        "technical",
        "my invoice",
        "order status",
        "broadband",
        "television",
        "internet",
        "billing please",
        "customer number",
        "personal details",
        "operations",
        "operating",
        "preparation",
        "repayment",
        "operating hours",
        "some money",
        "separately",
        "the opera",
    ] {
        assert_eq!(judge(t), PersonAsk::Nothing, "{t:?}");
    }
}

#[test]
fn a_mandarin_a_not_a_question_asks_it_does_not_refuse() {
    // 能不能 / 有没有 / 可不可以 / 要不要: "can or cannot", a question; 不 and 没 in it negate
    // nothing. A plain 不 / 没有 before the name still refuses.
    requests(&[
        "能不能让真人来接电话",
        "有没有人工",
        "可不可以转人工",
        "你们要不要给我转人工",
    ]);
    negated(&["我不要人工", "没有人工也行，我查一下余额"]);
}

#[test]
fn calling_for_someone_in_other_words_is_a_request() {
    requests(&[
        // 叫 … 来: summoning someone; 经理 / 主管 count inside a request like "manager".
        "叫你们的工作人员来",
        "我要投诉，找你们经理",
        "帮我找一下主管",
        "喂，有人在吗",
        // "a word with" is a verb of talking, whoever it is with.
        "could I have a word with a member of staff",
        // A frame whose last word whisper's spelling lends to the name ("me a person" is near
        // "real person") still governs it.
        "I don't want to talk to a robot, get me a person",
    ]);
    // Weak words stay ordinary words outside a request.
    not_requests(&["经理说明天给我回电话", "我们领导的手机坏了"]);
}

#[test]
fn a_name_called_out_after_the_rest_is_a_request() {
    assert!(is_request("I've had enough of this machine, operator"));
    assert!(is_request("this is useless, agent please"));
    assert!(is_request("not a robot, a real person"));
    // A refusal of something else before it does not hold it back.
    assert!(is_request("I don't want to wait, operator"));
    // Pointed at, or after a refusal that may be of it, it is not.
    assert!(!is_request("I spoke to them yesterday, the agent"));
    assert!(!is_request("I don't want to talk, operator"));
    assert!(!is_request("I don't want, operator"));
}

#[test]
fn a_negative_question_asks_for_a_person() {
    requests(&[
        "don't you have a human I can talk to",
        "why can't I talk to a human",
        "why don't you put me through to an agent",
        "为什么不能转人工",
        "怎么没有人工服务",
        "难道没有人工吗",
        "为什么你们不给我转人工",
    ]);
    // Statements keep their refusal, also with a question word far before the negator or
    // saying "however, whatever".
    negated(&[
        "don't transfer me to an agent",
        "I don't want an agent",
        "我不想找人工",
        "我怎么都不想转人工",
        "不管怎么样我都不要人工",
        "不管你们怎么说我都不要人工",
        "I know why you ask, I really do not need to speak to an agent",
    ]);
}

#[test]
fn a_verb_of_transferring_needs_no_object() {
    assert!(is_request("transfer me please"));
    assert!(is_request("can you connect me now"));
    assert!(!is_request("can I talk to you"));
    // Mandarin's verbs of putting through, said last; with an object of their own they move
    // something else (转一下账: a money transfer).
    requests(&["能不能帮我转一下", "麻烦帮我转接一下", "帮我转过去吧"]);
    not_requests(&["我想转一下账", "我不想转接"]);
}

#[test]
fn a_person_named_with_nothing_else_is_asked_for() {
    requests(&["person please", "a person", "someone please", "经理"]);
    not_requests(&["人", "someone stole my phone", "the person at the shop"]);
}

#[test]
fn refusing_the_machine_asks_for_a_person() {
    requests(&[
        "I don't want to talk to a machine",
        "no robots",
        "not a robot",
        "I do not want a recording",
        "我不要机器人",
        "我不想跟机器说话",
        "不要自动语音",
        "我不要自动服务",
    ]);
    not_requests(&[
        "is this a recording",
        "I didn't hear the recording",
        "I don't know if this machine works",
        "my machine is broken",
        "the robot said my bill is due",
        "I do not need the automated payment reminders",
    ]);
    // The request names nobody: a choice said in the same words is the answer.
    assert!(matches!(
        judge("no robot, billing"),
        PersonAsk::Request { named: false, .. }
    ));
}

#[test]
fn weariness_of_the_machine_and_a_computer_talked_to_refuse_it() {
    requests(&[
        "I'm tired of talking to a machine",
        "fed up with this robot",
        "I hate these machines",
        "get me out of this menu",
        "I don't want to talk to a computer",
        "我受够了机器人",
        "我烦死这个机器人了",
        "我不想跟电脑说话",
    ]);
    not_requests(&[
        "my computer won't start",
        "I don't know how to use the computer",
        "I hate it when my internet drops",
        "the system says my password is wrong",
        "我的电脑坏了",
        "系统升级了吗",
        "I'm tired of my bill going up",
    ]);
}

#[test]
fn someone_asked_to_help_or_to_be_there_is_asked_for() {
    requests(&[
        "can someone help me",
        "is anyone available",
        "will somebody pick up please",
        "who can help me",
        "is an agent available",
        "can a representative help me with this",
        "有人能帮我吗",
        "谁能帮帮我",
        "有人接电话吗",
        "客服有空吗",
    ]);
    not_requests(&[
        "nobody can help me",
        "the agent helped me yesterday",
        "an agent couldn't help me",
        "someone told me to ask for help",
        "别人帮我交的话费",
        "someone stole my phone",
    ]);
    // Helping names nobody in particular: a choice said in the same words is the answer. Being
    // there, or a name helping, asks for a person.
    assert!(matches!(
        judge("can someone help me with my bill"),
        PersonAsk::Request { named: false, .. }
    ));
    for t in ["有人接电话吗", "can an agent help me with my bill"] {
        assert!(
            matches!(judge(t), PersonAsk::Request { named: true, .. }),
            "{t:?}: {:?}",
            judge(t)
        );
    }
}

#[test]
fn a_person_talked_about_is_not_asked_for() {
    for t in [
        "I want to complain about your agent",
        "I'd like to ask about the engineer's visit and the operator",
        "我想问一下关于客服的事",
    ] {
        assert!(
            matches!(judge(t), PersonAsk::Unsure { .. } | PersonAsk::Nothing),
            "{t:?}: {:?}",
            judge(t)
        );
    }
    requests(&[
        "I want to talk to an agent about my bill",
        "can I speak to someone about my order",
    ]);
}

#[test]
fn will_would_and_should_not_refuse_but_cannot_complains_and_not_minding_welcomes() {
    negated(&[
        "I won't need an agent, just tell me the opening hours",
        "I wouldn't want to bother an agent, where is my parcel",
        "we shouldn't need a representative for this, it's about my bill",
    ]);
    // Not getting a person is a complaint that asks for one; "won't you" asks.
    requests(&[
        "I can't get through to a real person",
        "I couldn't get a human last time, please put me through to one now",
        "won't you put me through to someone",
        "我不介意等人工",
    ]);
    // A negator before "mind" refuses nothing: at most the caller is asked once.
    not_requests(&["I don't mind waiting for an agent"]);
    assert!(
        !matches!(
            judge("I don't mind waiting for an agent"),
            PersonAsk::Mention {
                why: NotARequest::Negated,
                ..
            }
        ),
        "{:?}",
        judge("I don't mind waiting for an agent")
    );
}
