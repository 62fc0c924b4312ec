package sms

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"slices"
	"strings"
)

// PercentEncode encodes as Alibaba Cloud's RPC signature requires: RFC 3986
// (A-Z a-z 0-9 - _ . ~ kept, everything else %XX in upper case, UTF-8),
// so a space is %20, * is %2A and ~ stays ~, unlike form encoding.
func PercentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// CanonicalQuery sorts the parameters by name and joins them encoded:
// the canonicalized query string of signature version 1.0. Signature
// itself is left out.
func CanonicalQuery(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, PercentEncode(k)+"="+PercentEncode(params.Get(k)))
	}
	return strings.Join(parts, "&")
}

// Sign computes the RPC signature (SignatureMethod HMAC-SHA1,
// SignatureVersion 1.0): Base64(HMAC-SHA1(secret + "&",
// method + "&" + enc("/") + "&" + enc(canonical query))).
func Sign(method string, params url.Values, secret string) string {
	toSign := method + "&" + PercentEncode("/") + "&" + PercentEncode(CanonicalQuery(params))
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(toSign))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
