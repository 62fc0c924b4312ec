package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	pb "github.com/memberpass/memberpass/proto/memberpass/v1"
	"github.com/memberpass/memberpass/proto/pairing"
)

func storePairingCode(ctx context.Context, c *client, args []string) error {
	fs := flags("store pairing-code")
	brand, store := fs.String("brand", "", "brand id"), fs.String("store", "", "store id")
	qrPNG := fs.String("qr-png", "", "also write the pairing ticket's QR code to this PNG file")
	if err := parse(fs, args, "store"); err != nil {
		return err
	}
	r, err := c.admin.IssuePairingCode(ctx, &pb.IssuePairingCodeRequest{BrandId: *brand, StoreId: *store})
	if err != nil {
		return err
	}
	if *qrPNG != "" {
		if err := os.WriteFile(*qrPNG, r.GetPairingQrPng(), 0o600); err != nil {
			return fmt.Errorf("write pairing QR code: %w", err)
		}
	}
	c.print(r, func() {
		fmt.Fprintf(c.out, "pairing code %s for store %s (valid until %s)\nstart the store's agent once with --pairing-code '%s'\n",
			r.GetPairingCode(), r.GetStore().GetId(), r.GetPairingExpiresAt().AsTime().Format(time.RFC3339), r.GetPairingUri())
		if t, err := pairing.Parse(r.GetPairingUri()); err == nil {
			if qr, err := t.QRText(); err == nil {
				fmt.Fprintf(c.out, "or scan this pairing ticket:\n%s", qr)
			}
		}
	})
	return nil
}

func tokenCreate(ctx context.Context, c *client, args []string) error {
	fs := flags("token create")
	brand, account, role := fs.String("brand", "", "brand id (none for a platform operator)"), fs.String("account", "", "who holds the token"), fs.String("role", "", "owner, marketing, finance, store_manager, auditor or platform")
	stores := fs.String("stores", "", "comma-separated stores a store manager manages")
	expires := fs.Duration("expires", 0, "the token expires after this long (e.g. 720h); 0 never")
	if err := parse(fs, args, "account", "role"); err != nil {
		return err
	}
	var ids []string
	if *stores != "" {
		ids = strings.Split(*stores, ",")
	}
	r, err := c.access.CreateHQToken(ctx, &pb.CreateHQTokenRequest{BrandId: *brand, Account: *account, Role: *role, StoreIds: ids, TtlSeconds: int64(expires.Seconds())})
	if err != nil {
		return err
	}
	c.print(r, func() {
		fmt.Fprintf(c.out, "token %s for %s (%s) created; its secret, shown this once:\n%s\n", r.GetToken().GetTokenId(), r.GetToken().GetAccount(), r.GetToken().GetRole(), r.GetSecret())
	})
	return nil
}

func tokenList(ctx context.Context, c *client, args []string) error {
	fs := flags("token list")
	brand := fs.String("brand", "", "brand id (none: the platform operators' tokens)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	r, err := c.access.ListHQTokens(ctx, &pb.ListHQTokensRequest{BrandId: *brand})
	if err != nil {
		return err
	}
	c.print(r, func() {
		w := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "token\taccount\trole\tstores\tcreated\texpires\tstate")
		for _, t := range r.GetTokens() {
			state, exp := "active", "never"
			if t.GetExpiresAt() != nil {
				exp = t.GetExpiresAt().AsTime().Format(time.RFC3339)
				if t.GetExpiresAt().AsTime().Before(time.Now()) {
					state = "expired"
				}
			}
			if t.GetRevokedAt() != nil {
				state = "revoked " + t.GetRevokedAt().AsTime().Format(time.RFC3339)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.GetTokenId(), t.GetAccount(), t.GetRole(), strings.Join(t.GetStoreIds(), ","),
				t.GetCreatedAt().AsTime().Format(time.RFC3339), exp, state)
		}
		w.Flush()
	})
	return nil
}

func tokenRevoke(ctx context.Context, c *client, args []string) error {
	fs := flags("token revoke")
	brand, id := fs.String("brand", "", "brand id (none for a platform operator's token)"), fs.String("id", "", "token id")
	if err := parse(fs, args, "id"); err != nil {
		return err
	}
	t, err := c.access.RevokeHQToken(ctx, &pb.HQTokenRef{BrandId: *brand, TokenId: *id})
	if err != nil {
		return err
	}
	c.print(t, func() { fmt.Fprintf(c.out, "token %s of %s revoked\n", t.GetTokenId(), t.GetAccount()) })
	return nil
}

func tokenRotate(ctx context.Context, c *client, args []string) error {
	fs := flags("token rotate")
	brand, id := fs.String("brand", "", "brand id (none for a platform operator's token)"), fs.String("id", "", "token id")
	if err := parse(fs, args, "id"); err != nil {
		return err
	}
	r, err := c.access.RotateHQToken(ctx, &pb.HQTokenRef{BrandId: *brand, TokenId: *id})
	if err != nil {
		return err
	}
	c.print(r, func() {
		fmt.Fprintf(c.out, "token %s of %s rotated; the old secret no longer works; the new one, shown this once:\n%s\n", r.GetToken().GetTokenId(), r.GetToken().GetAccount(), r.GetSecret())
	})
	return nil
}

func auditLog(ctx context.Context, c *client, args []string) error {
	fs := flags("audit")
	brand := fs.String("brand", "", "brand id (none: the platform's own changes, such as brands made)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var all []*pb.AuditEntry
	page := ""
	for {
		r, err := c.access.ListAuditLog(ctx, &pb.ListAuditLogRequest{BrandId: *brand, PageToken: page, Limit: 500})
		if err != nil {
			return err
		}
		all = append(all, r.GetEntries()...)
		if page = r.GetNextPageToken(); page == "" {
			break
		}
	}
	c.print(&pb.ListAuditLogResponse{Entries: all}, func() {
		for _, e := range all {
			fmt.Fprintf(c.out, "%d  %s  %s (token %s)  %s %s\n", e.GetSeq(), e.GetAt().AsTime().Format(time.RFC3339), e.GetAccount(), e.GetTokenId(), e.GetAction(), e.GetTarget())
			if e.GetBefore() != "" {
				fmt.Fprintf(c.out, "    before: %s\n", e.GetBefore())
			}
			if e.GetAfter() != "" {
				fmt.Fprintf(c.out, "    after:  %s\n", e.GetAfter())
			}
		}
	})
	return nil
}

func memberLinkRevoke(ctx context.Context, c *client, args []string) error {
	fs := flags("member link revoke")
	brand, id := fs.String("brand", "", "brand id"), fs.String("id", "", "member id")
	if err := parse(fs, args, "brand", "id"); err != nil {
		return err
	}
	l, err := c.admin.RevokeMemberCardLinks(ctx, &pb.GetMemberCardLinkRequest{BrandId: *brand, MemberId: *id})
	if err != nil {
		return err
	}
	c.print(l, func() {
		fmt.Fprintf(c.out, "every earlier card link of member %s stopped; the new one:\n%s\n", *id, cmpOr(l.GetUrl(), l.GetPath()))
	})
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
