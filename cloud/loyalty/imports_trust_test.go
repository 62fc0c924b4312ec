package loyalty_test

import (
	"strings"
	"testing"
)

// TestImportUnclosedQuoteNamesItsLine: a quote left open on line 3 is
// found at the end of the file; the error names line 3, where the broken
// record starts. A name with an ESC sequence is refused by name.
func TestImportUnclosedQuoteNamesItsLine(t *testing.T) {
	forEachStorage(t, func(t *testing.T, f *fixture) {
		csv := "phone,name\n13800000301,王一\n13800000302,\"李\n13800000303,张三\n13800000304,赵四\n"
		rep := ok(f.svc.ImportMembers(ctx, f.brand, []byte(csv), false))(t)
		if rep.Written || len(rep.Errors) != 1 || rep.Errors[0].Line != 3 || !strings.Contains(rep.Errors[0].Message, "malformed CSV") {
			t.Fatalf("report %+v; want one malformed-CSV error on line 3", rep)
		}
		rep = ok(f.svc.ImportMembers(ctx, f.brand, []byte("phone,name\n13800000305,\x1b[31mred\n"), false))(t)
		if rep.Written || len(rep.Errors) != 1 || rep.Errors[0].Line != 2 || rep.Errors[0].Field != "name" {
			t.Fatalf("report %+v; want the name on line 2 refused", rep)
		}
	})
}
