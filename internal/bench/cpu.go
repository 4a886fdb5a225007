package bench

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuReading is the CPU time processes and the machine had used at a
// moment, as Linux's /proc says; ok is false where it cannot be read.
type cpuReading struct {
	at    time.Time
	byPID map[int]time.Duration
	// The machine's CPU time, busy and in all, over every CPU.
	busy, total time.Duration
	ok          bool
}

// userHZ is the unit of /proc's CPU times: USER_HZ, 100 on every Linux
// architecture Go supports.
const userHZ = 100

func ticks(n uint64) time.Duration { return time.Duration(n) * time.Second / userHZ }

// readCPU reads the CPU time of pids (those it cannot read are left out)
// and of the machine.
func readCPU(pids ...int) cpuReading {
	r := cpuReading{at: time.Now(), byPID: map[int]time.Duration{}}
	for _, pid := range pids {
		if d, ok := procCPU(pid); ok {
			r.byPID[pid] = d
		}
	}
	r.busy, r.total, r.ok = machineCPU()
	return r
}

// since is the CPU time pids used from start to r: a process that started
// in between counts from zero, one gone by r not at all.
func (r cpuReading) since(start cpuReading, pids ...int) time.Duration {
	var d time.Duration
	for _, pid := range pids {
		if end, ok := r.byPID[pid]; ok {
			d += end - start.byPID[pid]
		}
	}
	return d
}

// procCPU is the user and system CPU time a process has used
// (/proc/PID/stat's utime and stime).
func procCPU(pid int) (time.Duration, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: the fields
	// counted are those after it, from the state (field 3).
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseUint(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseUint(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return ticks(utime + stime), true
}

// machineCPU is the CPU time of every CPU of the machine so far, busy and
// in all (/proc/stat's first line: idle and iowait are not busy).
func machineCPU() (busy, total time.Duration, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, false
	}
	var all, idle uint64
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		// guest and guest_nice (fields 9 and 10) are counted in user and
		// nice already.
		if i >= 8 {
			break
		}
		all += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return ticks(all - idle), ticks(all), true
}
