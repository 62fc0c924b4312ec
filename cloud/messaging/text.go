package messaging

import (
	"fmt"
	"strings"

	"github.com/memberpass/memberpass/cloud"
)

// Text is a user-facing sentence with a stable code, in Chinese and English.
// The words of this package live here, one place, until the project's
// catalogue takes them.
type Text struct {
	Code string
	Zh   string
	En   string
}

// Lang is a member's or HQ's language: zh (default) or en.
type Lang string

// Languages.
const (
	Zh Lang = "zh"
	En Lang = "en"
)

// ParseLang accepts zh, en and the empty string (zh).
func ParseLang(s string) (Lang, error) {
	switch s {
	case "", "zh", "zh-CN", "zh_CN":
		return Zh, nil
	case "en", "en-US", "en_US":
		return En, nil
	}
	return "", invalidf(TextBadLang, s)
}

// In returns the text in a language.
func (t Text) In(l Lang) string {
	if l == En {
		return t.En
	}
	return t.Zh
}

// Reasons a message ends where it does, and refusals. Statuses carry the
// code; HQ's client shows the sentence.
var (
	TextNoConsent       = Text{"no_consent", "会员未同意接收该渠道的营销消息", "the member has not agreed to marketing on this channel"}
	TextOptedOut        = Text{"opted_out", "会员已退订该渠道", "the member opted out of this channel"}
	TextCappedDay       = Text{"capped_day", "已达该会员今日该渠道的发送上限", "the member's daily limit on this channel is reached"}
	TextCappedWeek      = Text{"capped_week", "已达该会员本周该渠道的发送上限", "the member's weekly limit on this channel is reached"}
	TextExpired         = Text{"expired", "优惠已过期，未在安静时段后补发", "the offer expired before it could be sent"}
	TextQuietHours      = Text{"quiet_hours", "安静时段，早上发送", "quiet hours: sent in the morning"}
	TextNoAddress       = Text{"no_address", "会员没有该渠道的地址（手机号或 openid）", "the member has no address on this channel (phone or openid)"}
	TextNoSender        = Text{"no_sender", "该渠道未配置服务商", "no provider is configured for this channel"}
	TextNoTemplate      = Text{"no_template", "模板不存在", "the template does not exist"}
	TextTooManyAttempts = Text{"too_many_attempts", "多次重试仍失败", "failed after every retry"}
	TextProviderRefused = Text{"provider_refused", "服务商拒绝发送", "the provider refused the message"}
	TextUserRefused     = Text{"user_refused", "用户拒收该公众号消息", "the member refused messages from this account"}
	TextRateLimited     = Text{"rate_limited", "服务商限流，稍后重试", "the provider is rate limiting; retrying later"}
	TextRetrying        = Text{"retrying", "发送失败，稍后重试", "sending failed; retrying later"}
	TextInDoubt         = Text{"in_doubt", "发送中断，无法确认服务商是否收到，未重发以免重复", "sending was interrupted and the provider cannot say whether it got the message; not resent to avoid a duplicate"}
	TextUndelivered     = Text{"undelivered", "运营商回执：未送达", "the carrier reports it undelivered"}

	TextBadChannel    = Text{"bad_channel", "渠道 %q 无效：应为 wechat、sms 或 webhook", "channel %q: want wechat, sms or webhook"}
	TextBadCategory   = Text{"bad_category", "类别 %q 无效：应为 marketing 或 transactional", "category %q: want marketing or transactional"}
	TextBadLang       = Text{"bad_lang", "语言 %q 无效：应为 zh 或 en", "language %q: want zh or en"}
	TextBadField      = Text{"bad_field", "%s 无效：%s", "%s is invalid: %s"}
	TextMissingOptOut = Text{"missing_opt_out", "营销短信模板必须包含退订说明 %q", "a marketing SMS template must carry the opt-out text %q"}
	TextNoSignName    = Text{"no_sign_name", "发送短信前请设置品牌短信签名", "set the brand's SMS sign name before sending SMS"}
	TextMissingVar    = Text{"missing_var", "模板变量 {%s} 没有值", "template variable {%s} has no value"}
	TextNotFound      = Text{"not_found", "消息不存在", "no such message"}
)

// invalidf makes an Invalid application error from a text, in both
// languages so any client can show it.
func invalidf(t Text, args ...any) error {
	return textError(cloud.Invalid, t, args...)
}

func textError(code cloud.Code, t Text, args ...any) error {
	return &cloud.Error{Code: code, Message: fmt.Sprintf(t.En, args...) + " / " + fmt.Sprintf(t.Zh, args...)}
}

// ReasonText finds the sentence for a reason code, for HQ's display; an
// unknown code (a provider's own) is shown as it is.
func ReasonText(code string) Text {
	code, _, _ = strings.Cut(code, ":")
	for _, t := range []Text{TextNoConsent, TextOptedOut, TextCappedDay, TextCappedWeek, TextExpired, TextQuietHours,
		TextNoAddress, TextNoSender, TextNoTemplate, TextTooManyAttempts, TextProviderRefused, TextUserRefused,
		TextRateLimited, TextRetrying, TextInDoubt, TextUndelivered, TextNoSignName, TextMissingVar} {
		if t.Code == code {
			return t
		}
	}
	return Text{Code: code, Zh: code, En: code}
}
