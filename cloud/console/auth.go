package console

import (
	"context"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/memberpass/memberpass/cloud"
	"github.com/memberpass/memberpass/cloud/hq"
)

// signinData is the sign-in page's data.
type signinData struct {
	Brand, Login, Next string
}

func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, nil, http.StatusOK, "signin", "", signinData{Next: localPath(r.URL.Query().Get("next"))})
}

// signin checks an account's password. A wrong password, an unknown
// account and a locked one take the same time; a locked account is told
// it is locked only when the password was right or the lock is on.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, nil, http.StatusBadRequest, "err.invalid")
		return
	}
	brand, login, password := strings.TrimSpace(r.PostFormValue("brand")), strings.TrimSpace(r.PostFormValue("login")), r.PostFormValue("password")
	data := signinData{Brand: brand, Login: login, Next: localPath(r.PostFormValue("next"))}
	refuse := func(code string, status int) {
		v := view{Lang: langOf(r), Path: r.URL.RequestURI(), Data: data, Error: code}
		w.Header().Set("X-Memberpass-Error", code)
		c.write(w, status, "signin", v)
	}
	if !boundedField(brand, 64) || !boundedField(login, 64) || len(password) > MaxPasswordLength {
		refuse("signin.failed", http.StatusUnauthorized)
		return
	}
	ctx := r.Context()
	var a hq.Account
	err := c.cfg.Store.ViewHQ(ctx, func(tx hq.Tx) error {
		var err error
		a, err = tx.Account(brand, login)
		return err
	})
	if cloud.IsNotFound(err) || err == nil && a.Disabled {
		checkPassword(dummyHash(), password)
		refuse("signin.failed", http.StatusUnauthorized)
		return
	} else if err != nil {
		c.log.Error("console: sign-in: read account", "err", err)
		c.fail(w, r, nil, http.StatusInternalServerError, "err.internal")
		return
	}
	now := c.cfg.Now()
	ok := checkPassword(a.PasswordHash, password)
	locked := now.Before(a.LockedUntil)
	a, err = c.recordSignin(ctx, brand, login, ok && !locked, now)
	if err != nil {
		c.log.Error("console: sign-in: record attempt", "err", err)
		c.fail(w, r, nil, http.StatusInternalServerError, "err.internal")
		return
	}
	if now.Before(a.LockedUntil) {
		c.log.Warn("console: sign-in refused: account locked", "brand", brand, "account", login, "until", a.LockedUntil)
		refuse("signin.locked", http.StatusTooManyRequests)
		return
	}
	if !ok {
		c.log.Warn("console: sign-in failed", "brand", brand, "account", login, "failures", a.Failures)
		refuse("signin.failed", http.StatusUnauthorized)
		return
	}
	// A new token at sign-in: a session id planted before cannot be
	// ridden after.
	if err := c.sm.RenewToken(ctx); err != nil {
		c.fail(w, r, nil, http.StatusInternalServerError, "err.internal")
		return
	}
	c.sm.Put(ctx, "brand", a.BrandID)
	c.sm.Put(ctx, "login", a.Login)
	c.sm.Put(ctx, "gen", int64(a.SessionGen))
	c.sm.Put(ctx, "csrf", randomToken())
	c.log.Info("console: signed in", "brand", brand, "account", login, "role", a.Role)
	http.Redirect(w, r, data.Next, http.StatusSeeOther)
}

// recordSignin counts a failure (locking the account at the limit) or
// clears the count after a success, and returns the account as written.
func (c *Console) recordSignin(ctx context.Context, brand, login string, success bool, now time.Time) (hq.Account, error) {
	var a hq.Account
	err := c.cfg.Store.UpdateHQ(ctx, func(tx hq.Tx) error {
		var err error
		if a, err = tx.Account(brand, login); err != nil {
			return err
		}
		switch {
		case success:
			if a.Failures == 0 {
				return nil
			}
			a.Failures = 0
		case now.Before(a.LockedUntil):
			return nil // already locked: the lock is not extended by knocking
		default:
			a.Failures++
			if a.Failures >= c.cfg.MaxFailures {
				a.Failures, a.LockedUntil = 0, now.Add(c.cfg.LockFor)
			}
		}
		return tx.PutAccount(a)
	})
	return a, err
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request) {
	// Signing out needs no token: the worst a forged sign-out does is
	// sign someone out; CrossOriginProtection refuses it from elsewhere.
	c.sm.Destroy(r.Context())
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// signoutEverywhere raises the account's session generation: every
// session stamped with the old one is refused from its next request.
func (c *Console) signoutEverywhere(w http.ResponseWriter, r *http.Request, rq *request) {
	err := c.cfg.Store.UpdateHQ(r.Context(), func(tx hq.Tx) error {
		a, err := tx.Account(rq.P.BrandID, rq.P.Account)
		if err != nil {
			return err
		}
		a.SessionGen++
		if err := tx.PutAccount(a); err != nil {
			return err
		}
		_, err = tx.Audit(hq.AuditEntry{BrandID: rq.P.BrandID, At: c.cfg.Now(), Account: rq.P.Account, Action: "sign_out_everywhere", Target: "account/" + rq.P.Account})
		return err
	})
	if err != nil {
		c.failErr(w, r, rq, "sign out everywhere", err)
		return
	}
	c.sm.Destroy(r.Context())
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

// boundedField is a short single-line field: at most max characters, no
// control characters.
func boundedField(s string, max int) bool {
	return utf8.ValidString(s) && utf8.RuneCountInString(s) <= max && !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// CreateAccount adds an HQ person's account (for memberpass-hq and the
// demo), with the password hashed by argon2id.
func CreateAccount(ctx context.Context, store hq.Store, a hq.Account, password string, now time.Time) error {
	if !hq.ValidRole(a.Role) {
		return cloud.Errorf(cloud.Invalid, "role %q: want one of owner, marketing, finance, store_manager, auditor, platform", a.Role)
	}
	if a.Login == "" || !boundedField(a.Login, 64) || !boundedField(a.Name, 64) {
		return cloud.Errorf(cloud.Invalid, "login: 1 to 64 characters, no control characters")
	}
	if a.Role == hq.RoleStoreManager && len(a.StoreIDs) == 0 {
		return cloud.Errorf(cloud.Invalid, "a store manager needs at least one store")
	}
	hash, err := HashPassword(password)
	if err != nil {
		return cloud.Errorf(cloud.Invalid, "%v", err)
	}
	a.PasswordHash, a.CreatedAt = hash, now
	if a.Name == "" {
		a.Name = a.Login
	}
	return store.UpdateHQ(ctx, func(tx hq.Tx) error {
		if _, err := tx.Brand(a.BrandID); err != nil {
			return err
		}
		for _, s := range a.StoreIDs {
			if _, err := tx.Store(a.BrandID, s); err != nil {
				return err
			}
		}
		if _, err := tx.Account(a.BrandID, a.Login); err == nil {
			return cloud.Errorf(cloud.Conflict, "account %q already exists in brand %q", a.Login, a.BrandID)
		} else if !cloud.IsNotFound(err) {
			return err
		}
		return tx.PutAccount(a)
	})
}
