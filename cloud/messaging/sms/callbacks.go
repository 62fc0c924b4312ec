package sms

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/messaging"
)

// Report is one delivery report of the SmsReport HTTP push.
type Report struct {
	PhoneNumber string `json:"phone_number"`
	SendTime    string `json:"send_time"`
	ReportTime  string `json:"report_time"`
	Success     bool   `json:"success"`
	ErrCode     string `json:"err_code"`
	ErrMsg      string `json:"err_msg"`
	SMSSize     string `json:"sms_size"`
	BizID       string `json:"biz_id"`
	OutID       string `json:"out_id"`
}

// Reply is one member's message of the SmsUp HTTP push.
type Reply struct {
	PhoneNumber string `json:"phone_number"`
	SendTime    string `json:"send_time"`
	Content     string `json:"content"`
	SignName    string `json:"sign_name"`
	DestCode    string `json:"dest_code"`
	SequenceID  int64  `json:"sequence_id"`
}

// Callbacks serves the gateway's HTTP pushes: POST {base}/report takes a
// JSON array of Reports, POST {base}/reply a JSON array of Replies. The
// gateway does not sign its pushes, so the URL configured in its console
// carries a secret token (?token=...), checked here. The answer is the
// gateway's expected {"code":0,"msg":"成功"}; anything else makes it push
// again.
type Callbacks struct {
	Service *messaging.Service
	Token   string
	Logger  *slog.Logger
}

// Push limits.
const (
	maxPushBytes = 1 << 20
	maxPushItems = 1000
)

var timeLayout = "2006-01-02 15:04:05"

func (cb *Callbacks) log() *slog.Logger {
	if cb.Logger != nil {
		return cb.Logger
	}
	return slog.Default()
}

// ServeHTTP routes by the last path element.
func (cb *Callbacks) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if cb.Token == "" || subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("token")), []byte(cb.Token)) != 1 {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPushBytes+1))
	if err != nil || len(body) > maxPushBytes {
		writeAnswer(w, http.StatusRequestEntityTooLarge, 1, "too large")
		return
	}
	ctx := r.Context()
	switch last(r.URL.Path) {
	case "report":
		var reports []Report
		if err := json.Unmarshal(body, &reports); err != nil || len(reports) > maxPushItems {
			writeAnswer(w, http.StatusBadRequest, 1, "bad report")
			return
		}
		for _, rep := range reports {
			at, _ := time.ParseInLocation(timeLayout, rep.ReportTime, china)
			reason := ""
			if !rep.Success {
				reason = messaging.TextUndelivered.Code + ":" + rep.ErrCode
			}
			if _, err := cb.Service.Receipt(ctx, messaging.SMS, rep.BizID, rep.OutID, rep.Success, reason, at); err != nil {
				if cloud.IsNotFound(err) || cloud.ErrorCode(err) == cloud.Invalid {
					cb.log().Warn("SMS report for no message", "biz_id", rep.BizID, "out_id", rep.OutID)
					continue
				}
				cb.log().Error("SMS report", "biz_id", rep.BizID, "err", err)
				writeAnswer(w, http.StatusInternalServerError, 1, "retry")
				return
			}
		}
	case "reply":
		var replies []Reply
		if err := json.Unmarshal(body, &replies); err != nil || len(replies) > maxPushItems {
			writeAnswer(w, http.StatusBadRequest, 1, "bad reply")
			return
		}
		for _, rep := range replies {
			at, _ := time.ParseInLocation(timeLayout, rep.SendTime, china)
			if len(rep.PhoneNumber) > 20 || len(rep.Content) > 2000 {
				continue
			}
			if _, err := cb.Service.InboundSMS(ctx, rep.PhoneNumber, rep.Content, rep.SignName, at); err != nil {
				cb.log().Error("SMS reply", "err", err)
				writeAnswer(w, http.StatusInternalServerError, 1, "retry")
				return
			}
		}
	default:
		http.NotFound(w, r)
		return
	}
	writeAnswer(w, http.StatusOK, 0, "成功")
}

func last(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[i+1:]
		}
	}
	return path
}

func writeAnswer(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"code": code, "msg": msg})
}
