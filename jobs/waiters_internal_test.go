package jobs

import "testing"

// TestWaiters: a freed slot wakes the move that has waited longest, once;
// a dropped waiter is skipped, and a wake it did not use goes to the next;
// the wake says how often it was passed on.
func TestWaiters(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cancel []int // waiters dropped before the wakes
		wakes  []int // hops of each wake, in order
		after  []int // waiters dropped after the wakes
		woken  map[int]int
	}{
		{name: "first come first woken", wakes: []int{0}, woken: map[int]int{0: 0}},
		{name: "one wake each", wakes: []int{0, 2, 0}, woken: map[int]int{0: 0, 1: 2, 2: 0}},
		{name: "cancelled skipped", cancel: []int{0}, wakes: []int{1}, woken: map[int]int{1: 1}},
		{name: "no waiter left", cancel: []int{0, 1, 2}, wakes: []int{0}, woken: map[int]int{}},
		{name: "unused wake passed on", wakes: []int{3}, after: []int{0}, woken: map[int]int{1: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s waiters
			chs := []chan int{s.wait(), s.wait(), s.wait()}
			for _, i := range tt.cancel {
				s.drop(chs[i])
			}
			for _, h := range tt.wakes {
				s.wakeOne(h)
			}
			for _, i := range tt.after {
				s.drop(chs[i])
			}
			for i, ch := range chs {
				select {
				case h := <-ch:
					want, ok := tt.woken[i]
					if !ok || h != want {
						t.Errorf("waiter %d woken with %d hops; want woken %v with %d", i, h, ok, want)
					}
				default:
					if _, ok := tt.woken[i]; ok {
						t.Errorf("waiter %d not woken", i)
					}
				}
			}
		})
	}
}
