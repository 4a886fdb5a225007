package bench

import "testing"

func TestNumber(t *testing.T) {
	for v, want := range map[float64]string{
		0.5: "0.5", 1.234: "1.234", 1234.4: "1234", 9999.4: "9999", 9999.6: "10,000",
		26870.4: "26,870", 1234567: "1,234,567", -26870: "-26,870",
	} {
		if got := number(v); got != want {
			t.Errorf("number(%v) = %q, want %q", v, got, want)
		}
	}
}
