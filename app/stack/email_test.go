package stack_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/email"
	"github.com/parrain/parrain/app/staff"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
	"github.com/parrain/parrain/integrations/smtp/mailsim"
	"github.com/parrain/parrain/jobs"
)

// advocateWithFriend makes addr an advocate and has friend order with
// their code; it returns the advocate.
func (h *harness) advocateWithFriend(t *testing.T, shop, addr, first, friend string) *advocateView {
	t.Helper()
	h.order(shop, shopifysim.OrderInput{Email: addr, FirstName: first, Total: "120.00"})
	var a *advocateView
	eventually(t, 15*time.Second, addr+" an advocate", func() bool { a = h.advocate(addr); return a != nil && a.FriendState == "created" })
	if friend != "" {
		o := h.order(shop, shopifysim.OrderInput{Email: friend, FirstName: "Friend", Total: "80.00", DiscountCodes: []string{a.FriendCode}})
		eventually(t, 15*time.Second, friend+"'s referral", func() bool { s, _, _ := h.referral(o); return s == "pending" })
	}
	return a
}

func (h *harness) outbox(kind, to string) (state, reason string, attempts int) {
	h.direct.QueryRow(`SELECT m.state, m.reason, m.attempts FROM email_outbox m JOIN advocates a ON a.id = m.advocate_id
		WHERE m.kind = $1 AND a.email = $2 ORDER BY m.id DESC LIMIT 1`, kind, to).Scan(&state, &reason, &attempts)
	return
}

// The SMTP server refuses for a while (451), then accepts: the message is
// delivered once. A hard bounce (550 5.1.1) fails the message with the
// server's words, suppresses the address (the next message is not even
// tried) and shows in the console.
func TestEmailRetriesAndHardBounce(t *testing.T) {
	h := newHarness(t, withSimulator())
	const shop = "mail.myshopify.com"
	h.installAndSync(shop, "EUR")

	if err := h.mail.SetFault(mailsim.Fault{Address: "marie@example.com", Kind: mailsim.TempFail, Count: 3}); err != nil {
		t.Fatal(err)
	}
	h.advocateWithFriend(t, shop, "marie@example.com", "Marie", "bob@example.com")
	h.waitMail(t, "marie@example.com", "ordered at")
	time.Sleep(500 * time.Millisecond) // a second copy would have come by now
	if n, refused := len(h.mail.Messages("marie@example.com")), h.mail.Refused("marie@example.com"); n != 1 || refused != 3 {
		t.Fatalf("%d messages delivered after %d refusals, want 1 after 3", n, refused)
	}
	if state, _, attempts := h.outbox("friend_ordered", "marie@example.com"); state != "sent" || attempts != 4 {
		t.Fatalf("outbox row: %s after %d attempts", state, attempts)
	}

	if err := h.mail.SetFault(mailsim.Fault{Address: "dave@example.com", Kind: mailsim.Bounce}); err != nil {
		t.Fatal(err)
	}
	dave := h.advocateWithFriend(t, shop, "dave@example.com", "Dave", "eve@example.com")
	eventually(t, 15*time.Second, "Dave's message failed", func() bool { s, _, _ := h.outbox("friend_ordered", "dave@example.com"); return s == "failed" })
	if _, reason, _ := h.outbox("friend_ordered", "dave@example.com"); !strings.Contains(reason, "550") || !strings.Contains(reason, "does not exist") {
		t.Fatalf("failure reason %q, want the server's words", reason)
	}
	if n := h.count("SELECT count(*) FROM email_suppressions WHERE email_norm = 'dave@example.com' AND reason = 'bounced'"); n != 1 {
		t.Fatalf("%d suppressions", n)
	}
	refused := h.mail.Refused("dave@example.com")
	o := h.order(shop, shopifysim.OrderInput{Email: "frank@example.com", FirstName: "Frank", Total: "80.00", DiscountCodes: []string{dave.FriendCode}})
	eventually(t, 15*time.Second, "Frank's referral", func() bool { s, _, _ := h.referral(o); return s == "pending" })
	eventually(t, 15*time.Second, "the next message skipped", func() bool {
		s, reason, _ := h.outbox("friend_ordered", "dave@example.com")
		return s == "skipped" && reason == "bounced"
	})
	if h.mail.Refused("dave@example.com") != refused || len(h.mail.Messages("dave@example.com")) != 0 {
		t.Fatal("a bounced address was tried again")
	}
	if _, err := h.stack.Staff().Add(context.Background(), "owner@parrain.test", "", staff.Owner, staffPassword, nil); err != nil {
		t.Fatal(err)
	}
	owner := (&consoleWorld{h: h}).login(t, "owner@parrain.test")
	if status, page := owner.get("/console/shops/" + shop + "/customers?q=dave@example.com"); status != 200 ||
		!strings.Contains(page, "bounced: ") || !strings.Contains(page, "not emailed: bounced") {
		t.Fatalf("console customer page: %d\n%s", status, page)
	}
}

// A crash after the server accepted a message and before the outbox row
// is marked sent: the retry sends it again, once, with the same
// Message-ID, and the row ends sent.
func TestEmailCrashAfterAcceptResendsWithSameMessageID(t *testing.T) {
	// The relay waits an hour between passes: this test sends by hand.
	h := newHarness(t, withSimulator(), withEnv("EMAIL_RELAY_EVERY", "1h"))
	const shop = "crash-mail.myshopify.com"
	h.installAndSync(shop, "EUR")
	h.advocateWithFriend(t, shop, "marie@example.com", "Marie", "bob@example.com")
	var id int64
	if err := h.direct.QueryRow(`SELECT id FROM email_outbox WHERE kind = 'friend_ordered'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	svc := h.stack.Emails()
	svc.AfterSend = func() { panic("worker killed after the server accepted") }
	func() {
		defer func() { _ = recover() }()
		_ = svc.Send(context.Background(), id, false)
		t.Fatal("the crash did not happen")
	}()
	if state, _, _ := h.outbox("friend_ordered", "marie@example.com"); state != "queued" {
		t.Fatalf("after the crash the row is %s, want queued", state)
	}
	svc.AfterSend = nil
	if err := svc.Send(context.Background(), id, false); err != nil {
		t.Fatal(err)
	}
	if err := svc.Send(context.Background(), id, false); err != nil { // a third run finds it sent
		t.Fatal(err)
	}
	msgs := h.mail.Messages("marie@example.com")
	if len(msgs) != 2 || msgs[0].MessageID == "" || msgs[0].MessageID != msgs[1].MessageID {
		t.Fatalf("want the message twice with one Message-ID, got %d: %+v", len(msgs), msgs)
	}
	if state, _, _ := h.outbox("friend_ordered", "marie@example.com"); state != "sent" {
		t.Fatalf("row %s", state)
	}
}

// Reminders and reward-expiring messages come from their scheduled job,
// to customers who accepted marketing only; a one-click unsubscribe (the
// List-Unsubscribe POST) stops the next one, not the reward itself.
func TestScheduledEmailsConsentAndUnsubscribe(t *testing.T) {
	h := newHarness(t, withSimulator())
	const domain = "sched.myshopify.com"
	shop := h.installAndSync(domain, "EUR")
	ctx := context.Background()
	if err := h.stack.DB.Emails().SaveSettings(ctx, email.Settings{ShopID: shop.ID, ReminderAfterDays: 3, ExpiringBeforeDays: 7,
		ReplyTo: "help@sched.example"}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []shopifysim.OrderInput{
		{Email: "marie@example.com", FirstName: "Marie", AcceptsMarketing: true, Locale: "fr"},
		{Email: "anne@example.com", FirstName: "Anne", AcceptsMarketing: true},
		{Email: "paul@example.com", FirstName: "Paul"},
	} {
		in.Total = "120.00"
		h.order(domain, in)
		eventually(t, 15*time.Second, in.Email+" an advocate", func() bool { a := h.advocate(in.Email); return a != nil && a.FriendState == "created" })
	}
	schedule := func() {
		t.Helper()
		if err := h.stack.Mux().ProcessTask(ctx, jobs.NewScheduleEmailsTask()); err != nil {
			t.Fatal(err)
		}
	}
	schedule() // too early: nothing
	h.advance(4 * 24 * time.Hour)
	schedule()
	reminder := h.waitMail(t, "marie@example.com", "Vos amis ont")
	h.waitMail(t, "anne@example.com", "Your friends get")
	eventually(t, 15*time.Second, "Paul's reminder skipped", func() bool {
		s, reason, _ := h.outbox("share_reminder", "paul@example.com")
		return s == "skipped" && reason == "no consent"
	})
	if len(h.mail.Messages("paul@example.com")) != 0 {
		t.Fatal("Paul, who did not consent, got an email")
	}
	if !strings.Contains(reminder.Headers["Reply-To"], "help@sched.example") || reminder.Headers["List-Unsubscribe-Post"] != "List-Unsubscribe=One-Click" {
		t.Fatalf("reminder headers: %v", reminder.Headers)
	}
	unsub := strings.Trim(reminder.Headers["List-Unsubscribe"], "<>")
	if !strings.HasPrefix(unsub, h.app.URL+"/email/unsubscribe/") || !strings.Contains(reminder.Text, unsub) {
		t.Fatalf("List-Unsubscribe %q", unsub)
	}
	// A tampered link does nothing; a GET only asks; the POST unsubscribes.
	if resp, err := http.PostForm(unsub+"x", url.Values{"List-Unsubscribe": {"One-Click"}}); err != nil || resp.StatusCode != 404 {
		t.Fatalf("tampered link: %v %v", resp, err)
	}
	if resp, err := http.Get(unsub); err != nil || resp.StatusCode != 200 || h.count("SELECT count(*) FROM email_suppressions") != 0 {
		t.Fatalf("GET: %v %v", resp, err)
	}
	resp, err := http.PostForm(unsub, url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("one-click POST: %v %v", resp, err)
	}
	if h.count("SELECT count(*) FROM email_suppressions WHERE email_norm = 'marie@example.com' AND reason = 'unsubscribed'") != 1 {
		t.Fatal("not unsubscribed")
	}

	// Each gets a reward; near its expiry the expiring message goes to
	// Anne only: Marie unsubscribed, Paul never consented. Marie's
	// "reward earned" still comes (transactional).
	for _, adv := range []string{"marie@example.com", "anne@example.com", "paul@example.com"} {
		a := h.advocate(adv)
		o := h.order(domain, shopifysim.OrderInput{Email: "friend-of-" + adv, FirstName: "Zoé", Total: "80.00", DiscountCodes: []string{a.FriendCode}})
		eventually(t, 15*time.Second, "referral", func() bool { s, _, _ := h.referral(o); return s == "pending" })
	}
	h.advance(15 * 24 * time.Hour)
	if err := h.stack.Mux().ProcessTask(ctx, jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "rewards issued", func() bool { return h.count("SELECT count(*) FROM rewards WHERE state = 'issued'") == 3 })
	h.waitMail(t, "marie@example.com", "Votre récompense")
	h.advance(85 * 24 * time.Hour)
	schedule()
	h.waitMail(t, "anne@example.com", "expires on")
	eventually(t, 15*time.Second, "Marie's and Paul's expiring skipped", func() bool {
		s1, r1, _ := h.outbox("reward_expiring", "marie@example.com")
		s2, r2, _ := h.outbox("reward_expiring", "paul@example.com")
		return s1 == "skipped" && r1 == "unsubscribed" && s2 == "skipped" && r2 == "no consent"
	})
	for _, m := range h.mail.Messages("marie@example.com") {
		if strings.Contains(m.Subject, "expire") {
			t.Fatalf("Marie got %q after unsubscribing", m.Subject)
		}
	}
	paul := h.mail.Messages("paul@example.com")
	if len(paul) != 2 { // friend ordered, reward earned: transactional only
		t.Fatalf("Paul got %d emails", len(paul))
	}
	for _, m := range paul {
		if m.Headers["List-Unsubscribe"] != "" {
			t.Fatalf("Paul got a marketing email: %s", m.Subject)
		}
	}
	// Scheduling again decides nothing new.
	before := h.count("SELECT count(*) FROM email_outbox")
	schedule()
	if h.count("SELECT count(*) FROM email_outbox") != before {
		t.Fatal("the schedule decided a message twice")
	}
}

// The merchant edits a message, previews it, sends a test to themselves
// (console and admin API), and bad input is refused with the field named.
func TestConsoleEmailsPage(t *testing.T) {
	h := newHarness(t, withSimulator())
	const domain = "editor.myshopify.com"
	h.installAndSync(domain, "EUR")
	if _, err := h.stack.Staff().Add(context.Background(), "owner@parrain.test", "", staff.Owner, staffPassword, nil); err != nil {
		t.Fatal(err)
	}
	owner := (&consoleWorld{h: h}).login(t, "owner@parrain.test")
	page := "/console/shops/" + domain + "/emails"
	// The French email in an English console: mail_lang picks the email's
	// language only.
	if status, body := owner.get(page + "?kind=reward_earned&mail_lang=fr"); status != 200 || !strings.Contains(body, "Votre récompense") ||
		!strings.Contains(body, "Latest messages") {
		t.Fatalf("emails page: %d\n%s", status, body)
	}
	post := func(path string, form url.Values) (int, string) {
		form.Set("csrf", owner.csrf)
		resp, err := owner.c.PostForm(owner.base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readAll(resp)
	}
	form := url.Values{"kind": {"reward_earned"}, "lang": {"en"}, "reply_to": {"help@editor.example"}, "reminder_after_days": {"5"},
		"expiring_before_days": {"0"}, "subject": {"{first_name}, your {value} is here"}, "body": {"Code: {code}\nUnknown {password}"}}
	if status, body := post(page, form); status != 400 || !strings.Contains(body, "unknown placeholder {password}") {
		t.Fatalf("bad placeholder: %d", status)
	}
	form.Set("body", "Code: {code}")
	if status, body := post(page, form); status != 303 {
		t.Fatalf("save: %d %s", status, body)
	}
	var n int
	h.direct.QueryRow(`SELECT count(*) FROM email_settings WHERE reply_to = 'help@editor.example' AND reminder_after_days = 5
		AND templates -> 'reward_earned' -> 'en' ->> 'body' = 'Code: {code}'`).Scan(&n)
	if n != 1 {
		t.Fatal("settings not saved")
	}
	if status, _ := post(page+"/test", url.Values{"kind": {"reward_earned"}, "lang": {"en"}}); status != 303 {
		t.Fatalf("test send: %d", status)
	}
	m := h.waitMail(t, "owner@parrain.test", "[TEST] Marie, your")
	if strings.TrimSpace(m.Text) != "Code: THANKS-SAMPLE" || !strings.Contains(m.Headers["Reply-To"], "help@editor.example") {
		t.Fatalf("test email: %+v", m)
	}
	// The admin API: preview and settings.
	status, body := owner.send("GET", "/api/admin/shops/"+domain+"/emails/preview?kind=friend_ordered&lang=fr", "", "")
	if status != 200 || !strings.Contains(body, "Bob M. a commandé") {
		t.Fatalf("preview: %d %s", status, body)
	}
	if status, body := owner.send("PUT", "/api/admin/shops/"+domain+"/emails/settings", `{"reply_to":"not an address"}`, owner.csrf); status != 400 || !strings.Contains(body, "reply_to") {
		t.Fatalf("bad settings: %d %s", status, body)
	}
}

// The friend-ordered email says the reward the friend's order earned (the
// referral's stored offer), not the program's reward when the email goes;
// the reward-earned email says the reward's own amount. The program is
// edited between the order and both emails.
func TestEmailsSayTheRewardTheOrderEarned(t *testing.T) {
	// The relay waits an hour between passes: this test sends by hand.
	h := newHarness(t, withSimulator(), withEnv("EMAIL_RELAY_EVERY", "1h"))
	const shop = "earned-mail.myshopify.com"
	sh := h.installAndSync(shop, "EUR")
	ctx := context.Background()
	h.advocateWithFriend(t, shop, "marie@example.com", "Marie", "bob@example.com")
	// The default reward, 10.00 EUR, is the one Bob's order earned; the
	// merchant raises it to 25.00 EUR before any email goes.
	earned := email.RewardValue(app.OfferFixed, 0, 1000, "EUR", "en")
	raised := email.RewardValue(app.OfferFixed, 0, 2500, "EUR", "en")
	h.putProgram(shop, `{"reward_kind":"fixed","reward_amount_minor":2500}`)
	send := func(kind string) string {
		t.Helper()
		var id int64
		if err := h.direct.QueryRow(`SELECT id FROM email_outbox WHERE kind = $1 AND shop_id = $2 ORDER BY id DESC LIMIT 1`, kind, sh.ID).Scan(&id); err != nil {
			t.Fatalf("%s row: %v", kind, err)
		}
		if err := h.stack.Emails().Send(ctx, id, false); err != nil {
			t.Fatalf("send %s: %v", kind, err)
		}
		msgs := h.mail.Messages("marie@example.com")
		if len(msgs) == 0 {
			t.Fatalf("no %s message", kind)
		}
		return msgs[len(msgs)-1].Text
	}
	if text := send("friend_ordered"); !strings.Contains(text, "("+earned+")") || strings.Contains(text, raised) {
		t.Fatalf("friend-ordered email after the program changed, want %s not %s:\n%s", earned, raised, text)
	}
	// Past the hold, the reward is issued from the stored offer, and its
	// email says so.
	h.advance(15 * 24 * time.Hour)
	if err := h.stack.Mux().ProcessTask(ctx, jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the reward-earned email queued", func() bool {
		return h.count(`SELECT count(*) FROM email_outbox WHERE kind = 'reward_earned' AND shop_id = $1`, sh.ID) == 1
	})
	if n := h.count(`SELECT count(*) FROM rewards WHERE shop_id = $1 AND amount_minor = 1000`, sh.ID); n != 1 {
		t.Fatalf("%d rewards of 10.00 EUR, want the one Bob's order earned", n)
	}
	if text := send("reward_earned"); !strings.Contains(text, earned) || strings.Contains(text, raised) {
		t.Fatalf("reward-earned email, want %s not %s:\n%s", earned, raised, text)
	}
}
