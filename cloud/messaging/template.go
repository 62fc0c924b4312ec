package messaging

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Template is a message's text with variables (${name}) in Chinese and
// English. For SMS the text is the one registered with the gateway under
// ProviderTemplate (the template code); for WeChat, Fields maps the
// platform template's keys (keyword1, thing2, ...) to text with variables.
type Template struct {
	BrandID  string
	ID       string
	Name     string
	Channel  Channel
	Category Category
	Zh       string
	En       string
	// ProviderTemplate is the gateway's template: Alibaba's TemplateCode,
	// WeChat's template_id. ProviderTemplateEn is the English one when the
	// gateway registers languages apart (SMS); empty uses ProviderTemplate.
	ProviderTemplate   string
	ProviderTemplateEn string
	// Fields: WeChat data keys to their text (with variables).
	Fields map[string]string
	// WeChatKind is "template" (official-account template message) or
	// "subscribe" (subscription message).
	WeChatKind string
	// URL is where a WeChat message or the webhook's consumer links to.
	URL       string
	UpdatedAt time.Time
}

// WeChat message kinds.
const (
	WeChatTemplate  = "template"
	WeChatSubscribe = "subscribe"
)

var (
	varPattern = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]{0,31})\}`)
	idPattern  = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
)

// Bounds on templates HQ enters.
const (
	maxTemplateText = 500
	maxFields       = 20
	maxVarValue     = 200
)

// Validate checks a template against its channel's rules and the brand's
// policy: a marketing SMS names the opt-out text.
func (t Template) Validate(p Policy) error {
	if !idPattern.MatchString(t.ID) {
		return invalidf(TextBadField, "template id", fmt.Sprintf("%q, want 1-64 of A-Z a-z 0-9 _ . -", t.ID))
	}
	if _, err := ParseChannel(string(t.Channel)); err != nil {
		return err
	}
	if _, err := ParseCategory(string(t.Category)); err != nil {
		return err
	}
	if t.Zh == "" {
		return invalidf(TextBadField, "template text (zh)", "empty")
	}
	for _, s := range []string{t.Zh, t.En, t.Name, t.URL} {
		if utf8.RuneCountInString(s) > maxTemplateText {
			return invalidf(TextBadField, "template", fmt.Sprintf("text over %d characters", maxTemplateText))
		}
	}
	if len(t.Fields) > maxFields {
		return invalidf(TextBadField, "template fields", fmt.Sprintf("%d, at most %d", len(t.Fields), maxFields))
	}
	switch t.Channel {
	case SMS:
		if t.ProviderTemplate == "" {
			return invalidf(TextBadField, "template code", "an SMS template names the gateway's template code")
		}
		if t.Category == Marketing {
			for _, s := range []string{t.Zh, t.En} {
				if s != "" && !strings.Contains(s, p.OptOutText) && !strings.Contains(s, "TD") {
					return invalidf(TextMissingOptOut, p.OptOutText)
				}
			}
		}
	case WeChat:
		if t.ProviderTemplate == "" || len(t.Fields) == 0 {
			return invalidf(TextBadField, "WeChat template", "needs the template_id and its fields")
		}
		if t.WeChatKind != WeChatTemplate && t.WeChatKind != WeChatSubscribe {
			return invalidf(TextBadField, "WeChat kind", fmt.Sprintf("%q, want template or subscribe", t.WeChatKind))
		}
	}
	return nil
}

// Vars lists the variables a template uses, in order of first use.
func (t Template) Vars() []string {
	seen := map[string]bool{}
	var out []string
	texts := []string{t.Zh, t.En, t.URL}
	for _, k := range slices.Sorted(maps.Keys(t.Fields)) {
		texts = append(texts, t.Fields[k])
	}
	for _, s := range texts {
		for _, m := range varPattern.FindAllStringSubmatch(s, -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	return out
}

// Render fills a text's variables; a variable without a value is an error,
// never sent as "${name}".
func Render(text string, vars map[string]string) (string, error) {
	var missing string
	out := varPattern.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		v, ok := vars[name]
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", invalidf(TextMissingVar, missing)
	}
	return out, nil
}

// Text returns the template's text in a language, falling back to Chinese.
func (t Template) Text(l Lang) string {
	if l == En && t.En != "" {
		return t.En
	}
	return t.Zh
}

// Provider returns the gateway template for a language.
func (t Template) Provider(l Lang) string {
	if l == En && t.ProviderTemplateEn != "" {
		return t.ProviderTemplateEn
	}
	return t.ProviderTemplate
}

// Rendered is a template filled for one member.
type Rendered struct {
	Text   string
	Fields map[string]string
	URL    string
	// SMS only: the whole text as the phone shows it (【sign】 + text),
	// its length and how many billed segments it takes.
	SMSText  string
	Chars    int
	Segments int
}

// RenderFor fills a template for a language and variables, with the SMS
// sign name the brand's policy gives.
func (t Template) RenderFor(l Lang, vars map[string]string, p Policy) (Rendered, error) {
	for k, v := range vars {
		if utf8.RuneCountInString(v) > maxVarValue {
			return Rendered{}, invalidf(TextBadField, "variable "+k, fmt.Sprintf("over %d characters", maxVarValue))
		}
	}
	var r Rendered
	var err error
	if r.Text, err = Render(t.Text(l), vars); err != nil {
		return Rendered{}, err
	}
	if r.URL, err = Render(t.URL, vars); err != nil {
		return Rendered{}, err
	}
	if len(t.Fields) > 0 {
		r.Fields = make(map[string]string, len(t.Fields))
		for k, f := range t.Fields {
			if r.Fields[k], err = Render(f, vars); err != nil {
				return Rendered{}, err
			}
		}
	}
	if t.Channel == SMS {
		r.SMSText = "【" + p.SMSSignName + "】" + r.Text
		r.Chars, r.Segments = SMSSegments(r.SMSText)
	}
	return r, nil
}

// SMSSegments counts an SMS's characters (every character counts one,
// Chinese or not, as Chinese gateways bill) and its billed segments: 70
// characters fit in one; a longer text is split into segments of 67.
func SMSSegments(text string) (chars, segments int) {
	chars = utf8.RuneCountInString(text)
	switch {
	case chars == 0:
		return 0, 0
	case chars <= 70:
		return chars, 1
	default:
		return chars, (chars + 66) / 67
	}
}

// Estimate is what a send is expected to cost before it is made.
type Estimate struct {
	Messages int
	Segments int
	// CostFen is rounded up to whole fen.
	CostFen int64
	// PerSegmentMilliFen is the price used (1/1000 fen: ¥0.045 = 4500).
	PerSegmentMilliFen int64
}
