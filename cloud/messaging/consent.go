package messaging

import "time"

// Consent is a member's yes or no to one channel, kept with where it came
// from and when, so HQ can show why a message was or was not sent.
type Consent struct {
	BrandID  string
	MemberID string
	Channel  Channel
	Granted  bool
	// Address is where the channel reaches the member: the phone for SMS,
	// the openid for WeChat (linked from the member page). Empty keeps the
	// address known from before.
	Address string
	// Source: join_page, counter, import, hq, member_page, sms_reply,
	// wechat (a refusal reported by WeChat).
	Source string
	At     time.Time
}

// Consent sources.
const (
	SourceJoinPage   = "join_page"
	SourceCounter    = "counter"
	SourceImport     = "import"
	SourceHQ         = "hq"
	SourceMemberPage = "member_page"
	SourceSMSReply   = "sms_reply"
	SourceWeChat     = "wechat"
)

// IsOptOutReply reports whether an inbound SMS asks to stop: TD, T, N, R,
// 退订 or 拒收, alone or around spaces and punctuation, any case.
func IsOptOutReply(content string) bool {
	s := []rune{}
	for _, r := range content {
		switch r {
		case ' ', '\t', '\r', '\n', '.', '。', '!', '！', '　':
			continue
		}
		if r >= 'a' && r <= 'z' {
			r -= 'a' - 'A'
		}
		s = append(s, r)
	}
	switch string(s) {
	case "TD", "T", "N", "R", "退订", "拒收", "UNSUBSCRIBE", "STOP":
		return true
	}
	return false
}
