package stack_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/referrals"
	"github.com/parrain/parrain/integrations/shopify/shopifysim"
	"github.com/parrain/parrain/jobs"
)

// buildParrain compiles the real binary once per test binary.
func buildParrain(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "parrain")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/parrain/parrain/cmd/parrain").CombinedOutput()
	if err != nil {
		t.Fatalf("build parrain: %v\n%s", err, out)
	}
	return bin
}

// externalWorker is the real binary's worker on the harness's databases,
// with a fault armed (PARRAIN_FAULT) or none ("").
func (h *harness) externalWorker(ctx context.Context, bin, fault string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, "work")
	cmd.Env = append(os.Environ(), "LOG_LEVEL=warn", "PARRAIN_FAULT="+fault)
	for k, v := range h.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// The external worker talks to Postgres and Redis directly, not
	// through the harness proxies.
	cmd.Env = append(cmd.Env, "DATABASE_URL="+h.directDSN, fmt.Sprintf("REDIS_URL=redis://%s/%d", h.rdb.Options().Addr, h.redisDB))
	return cmd
}

// ageLeases makes the queue's leases look expired, as if the dead
// worker's 30 s and the recoverer's wait had passed, so a restarted worker
// takes its tasks back at start-up instead of in a minute.
func (h *harness) ageLeases(queue string) int {
	h.t.Helper()
	lease := "asynq:{" + queue + "}:lease"
	ids, err := h.rdb.ZRange(context.Background(), lease, 0, -1).Result()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, id := range ids {
		h.rdb.ZAdd(context.Background(), lease, redisZ(float64(time.Now().Add(-2*time.Minute).Unix()), id))
	}
	return len(ids)
}

// The worker process dies right after Shopify created the reward code and
// before the database recorded it. A restarted worker retries the job and
// finds the code instead of creating a second one: exactly one reward.
func TestRewardCrashBetweenStoreCallAndCommit(t *testing.T) {
	bin := buildParrain(t)
	h := newHarness(t, withSimulator(), withoutWorker())
	const shop = "crash.myshopify.com"
	stop := h.runWorker()
	h.installAndSync(shop, "EUR")
	// No holding period: the external worker runs on the real clock, so
	// this test cannot jump the harness clock forward.
	h.order(shop, shopifysim.OrderInput{Email: "marie@example.com", FirstName: "Marie", Total: "120.00"})
	var a *advocateView
	eventually(t, 15*time.Second, "advocate", func() bool { a = h.advocate("marie@example.com"); return a != nil && a.FriendState == "created" })
	if _, err := h.direct.Exec("UPDATE programs SET holding_days = 0"); err != nil {
		t.Fatal(err)
	}
	b := h.order(shop, shopifysim.OrderInput{Email: "bob@example.com", FirstName: "Bob", Total: "80.00", DiscountCodes: []string{a.FriendCode}})
	eventually(t, 15*time.Second, "pending referral", func() bool { s, _, _ := h.referral(b); return s == "pending" })
	stop() // from here on, only the external worker processes jobs

	// Approve (queues reward:issue), then run the real worker process with
	// the fault armed.
	if err := h.stack.Mux().ProcessTask(context.Background(), jobs.NewApproveReferralsTask()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	worker := func(fault string) *exec.Cmd { return h.externalWorker(ctx, bin, fault) }
	crashing := worker("exit-after-reward-store-call")
	out, err := crashing.CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Fatalf("the worker did not crash at the fault point: %v\n%s", err, out)
	}
	thanks := func() int {
		n := 0
		for _, d := range h.sim.Discounts(shop) {
			if strings.HasPrefix(d.Code, "THANKS-") {
				n++
			}
		}
		return n
	}
	if thanks() != 1 || h.count("SELECT count(*) FROM rewards WHERE state = 'issuing'") != 1 {
		t.Fatalf("after the crash: %d codes in the store, want 1, and the reward still issuing", thanks())
	}

	// The task is still marked active for the dead worker. Age its lease
	// as if the 30 s + recovery time had passed, so the restarted worker's
	// recoverer hands it back at start-up instead of in a minute.
	// The dead worker's reward job, and maybe a friend code flush it was
	// running too.
	if n := h.ageLeases(jobs.QueueDefault); n < 1 {
		t.Fatalf("%d leases, want the dead worker's", n)
	}

	restarted := worker("")
	if err := restarted.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { restarted.Process.Signal(os.Interrupt); restarted.Wait() }()
	eventually(t, 30*time.Second, "the reward issued by the restarted worker", func() bool {
		return h.count("SELECT count(*) FROM rewards WHERE state = 'issued'") == 1
	})
	if n := thanks(); n != 1 {
		t.Fatalf("%d reward codes in the store after the retry, want exactly 1", n)
	}
	if s, _, _ := h.referral(b); s != "rewarded" {
		t.Fatalf("referral %s", s)
	}
}

// The worker process dies right after Shopify took a batch of friend codes
// and before the database recorded the bulk operation. The restarted
// worker sends the batch again once the dead one's lease is over, learns
// from the store that it holds the codes, and records them: every code in
// the store exactly once.
func TestFriendCodeBatchCrashAfterTheStoreTookIt(t *testing.T) {
	bin := buildParrain(t)
	h := newHarness(t, withSimulator(), withoutWorker())
	const shop = "crashbulk.myshopify.com"
	stop := h.runWorker()
	sh := h.installAndSync(shop, "EUR")
	stop() // from here on, only the external workers
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	repo := h.stack.DB.Referrals()
	prog, err := repo.Program(ctx, sh)
	if err != nil {
		t.Fatal(err)
	}
	offer := referrals.FriendOffer(prog, time.Now())
	var codes []string
	for i := range 30 {
		adv, err := repo.EnsureAdvocate(ctx, &app.Advocate{ShopID: sh.ID, CustomerID: fmt.Sprint(7000 + i), FirstName: "Crash",
			Code: fmt.Sprintf("CRASH-%03d", i), FriendCode: fmt.Sprintf("FRIEND-CRASH-%03d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if err := repo.QueueFriendCode(ctx, adv, offer); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, adv.FriendCode)
	}
	if err := (jobs.FriendCodeQueue{Queue: h.stack.Jobs, Now: time.Now}).FlushFriendCodes(ctx, sh.ID); err != nil {
		t.Fatal(err)
	}
	out, err := h.externalWorker(ctx, bin, "exit-after-friend-batch-sent").CombinedOutput()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 3 {
		t.Fatalf("the worker did not crash at the fault point: %v\n%s", err, out)
	}
	if n := h.count("SELECT count(*) FROM friend_code_batches WHERE sent_at IS NOT NULL AND operation = '' AND done_at IS NULL"); n != 1 {
		t.Fatalf("%d batches sent without their operation, want the dead worker's", n)
	}
	if n := h.count("SELECT count(*) FROM advocates WHERE friend_code_state = 'created'"); n != 0 {
		t.Fatalf("%d codes recorded before the crash", n)
	}
	h.ageLeases(jobs.QueueDefault)
	if _, err := h.direct.Exec("UPDATE friend_code_batches SET leased_until = now() - interval '1 second' WHERE done_at IS NULL"); err != nil {
		t.Fatal(err)
	}
	restarted := h.externalWorker(ctx, bin, "")
	if err := restarted.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { restarted.Process.Signal(os.Interrupt); restarted.Wait() }()
	eventually(t, 60*time.Second, "every friend code recorded by the restarted worker", func() bool {
		return h.count("SELECT count(*) FROM advocates WHERE friend_code_state = 'created'") == len(codes)
	})
	for _, c := range codes {
		k := 0
		for _, d := range h.sim.Discounts(shop) {
			if strings.EqualFold(d.Code, c) {
				k++
			}
		}
		if k != 1 {
			t.Fatalf("%s is %d times in the store, want once", c, k)
		}
	}
}
