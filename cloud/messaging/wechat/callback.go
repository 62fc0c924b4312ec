package wechat

import (
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/messaging"
)

// Signature is WeChat's server-callback signature: SHA-1 of the token,
// timestamp and nonce sorted and joined, in hex.
func Signature(token, timestamp, nonce string) string {
	parts := []string{token, timestamp, nonce}
	slices.Sort(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// Event is the part of WeChat's event push the service reads.
type Event struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   int64    `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	Event        string   `xml:"Event"`
	MsgID        int64    `xml:"MsgID"`
	Status       string   `xml:"Status"`
}

// Callback serves the official account's server URL (plaintext mode): a
// GET with echostr verifies the URL; a POST carries events. It applies
// TEMPLATESENDJOBFINISH (delivered, or failed with "user block" or
// "system failed") and unsubscribe (the member unfollowed: WeChat consent
// revoked at once). Every request must carry the signature made with the
// token set in the account's console.
type Callback struct {
	Service *messaging.Service
	Token   string
	// MaxSkew bounds the timestamp's age (default 5 min) against replays.
	MaxSkew time.Duration
	Logger  *slog.Logger
}

func (cb *Callback) log() *slog.Logger {
	if cb.Logger != nil {
		return cb.Logger
	}
	return slog.Default()
}

// ServeHTTP verifies and applies one push.
func (cb *Callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	want := Signature(cb.Token, ts, nonce)
	if cb.Token == "" || subtle.ConstantTimeCompare([]byte(q.Get("signature")), []byte(want)) != 1 {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	skew := cb.MaxSkew
	if skew <= 0 {
		skew = 5 * time.Minute
	}
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > skew {
		http.Error(w, "stale timestamp", http.StatusUnauthorized)
		return
	}
	if r.Method == http.MethodGet {
		io.WriteString(w, q.Get("echostr"))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	var ev Event
	if err := xml.Unmarshal(body, &ev); err != nil {
		http.Error(w, "bad xml", http.StatusBadRequest)
		return
	}
	ctx := r.Context()
	switch {
	case ev.MsgType == "event" && ev.Event == "TEMPLATESENDJOBFINISH":
		ok := ev.Status == "success"
		reason := ""
		if !ok {
			reason = messaging.TextUndelivered.Code + ":" + strings.TrimSpace(strings.TrimPrefix(ev.Status, "failed:"))
		}
		_, err := cb.Service.Receipt(ctx, messaging.WeChat, strconv.FormatInt(ev.MsgID, 10), "", ok, reason, time.Unix(ev.CreateTime, 0))
		if err != nil && !cloud.IsNotFound(err) {
			cb.log().Error("WeChat receipt", "msgid", ev.MsgID, "err", err)
			http.Error(w, "retry", http.StatusInternalServerError)
			return
		}
	case ev.MsgType == "event" && ev.Event == "unsubscribe" && ev.FromUserName != "" && len(ev.FromUserName) <= 64:
		if _, err := cb.Service.OptOutAddress(ctx, messaging.WeChat, ev.FromUserName, messaging.SourceWeChat); err != nil {
			cb.log().Error("WeChat unfollow", "err", err)
			http.Error(w, "retry", http.StatusInternalServerError)
			return
		}
	}
	// WeChat wants "success" (or an empty body) or it pushes again.
	io.WriteString(w, "success")
}
