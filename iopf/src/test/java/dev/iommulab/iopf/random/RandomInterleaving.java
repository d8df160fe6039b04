package dev.iommulab.iopf.random;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.IopfHandler;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.SimRandom;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.iopf.PartialMatch;
import dev.iommulab.iopf.random.RandomMachine.HandlerKind;
import java.util.ArrayList;
import java.util.List;

/**
 * One seeded random interleaving at the io-pgfault level. From the seed alone (the machine's
 * {@link EventLoop} seed; its {@link SimRandom} is the only randomness) it builds a {@link RandomMachine}
 * of 2-3 devices with SVA-like domains at 1-2 PASIDs (sometimes a refusing handler), then performs
 * 40-120 operations with the loop advancing between them — partial and LPIG reports over a few grpids
 * and PASIDs (some unattached), injected failures at {@code iopf-group} / {@code iopf-partial},
 * remove_device and re-add, discard_partial, flush_dev with a continuation, duplicate group responses —
 * drains the loop and returns what {@link InterleavingChecker} found, with the operation log.
 *
 * <p>Replay a seed: {@code mvn -B -o test -pl iopf -am -Dtest=IopfRandomInterleavingTest#replay
 * -Dsurefire.failIfNoSpecifiedTests=false -Diopf.seed=N}, or run {@link #main} with the seed from an IDE.
 */
final class RandomInterleaving {

    private static final long BASE_VA = 0x4000_0000L;
    private static final int GRPIDS = 4;

    /** The outcome of one seed. */
    record Result(long seed, List<String> violations, List<String> operations, Stats stats) {

        boolean passed() {
            return violations.isEmpty();
        }

        /** The failure text: seed, violations, how to replay, and every operation. */
        String report() {
            StringBuilder sb = new StringBuilder();
            sb.append("iopf random interleaving, seed ").append(seed).append(": ").append(violations.size())
                    .append(" violation(s)\n");
            violations.forEach(v -> sb.append("  - ").append(v).append('\n'));
            sb.append("replay: mvn -B -o test -pl iopf -am -Dtest=IopfRandomInterleavingTest#replay ")
                    .append("-Dsurefire.failIfNoSpecifiedTests=false -Diopf.seed=").append(seed).append('\n');
            sb.append("exercised: ").append(stats).append('\n');
            sb.append("operations:\n");
            operations.forEach(o -> sb.append("  ").append(o).append('\n'));
            return sb.toString();
        }
    }

    private final Sabotage sabotage;
    private final RandomMachine m;
    private final SimRandom gen;
    private final SimRandom handlerRandom;
    private final Stats stats = new Stats();
    private final InterleavingChecker checker;
    private final List<String> ops = new ArrayList<>();
    private final List<IopfGroup> groups = new ArrayList<>();
    private int serial;

    private RandomInterleaving(long seed, Sabotage sabotage) {
        this.sabotage = sabotage;
        EventLoop loop = new EventLoop(seed);
        this.gen = loop.random().split();
        this.handlerRandom = loop.random().split();
        this.m = new RandomMachine(loop, p -> sabotage == Sabotage.PASID_MATCH
                ? p.withPartialMatch(PartialMatch.GRPID_PASID) : p);
        if (sabotage == Sabotage.DROP_RESPONSE) {
            m.dropFirstLpigResponse();
        }
        this.checker = new InterleavingChecker(m, stats);
        m.sendResponsesTo(checker);
        m.events.addListener(checker);
    }

    static Result run(long seed) {
        return run(seed, Sabotage.NONE);
    }

    static Result run(long seed, Sabotage sabotage) {
        RandomInterleaving r = new RandomInterleaving(seed, sabotage);
        r.build();
        int steps = 40 + r.gen.nextInt(81);
        for (int i = 1; i <= steps; i++) {
            r.operation(i);
            r.checker.checkQuiet();
            r.advance();
        }
        r.log("drain: run until idle");
        r.checker.step("drain: run until idle");
        r.m.loop.runUntilIdle();
        r.checker.finish();
        return new Result(seed, List.copyOf(r.checker.violations()), List.copyOf(r.ops), r.stats);
    }

    public static void main(String[] args) {
        long seed = args.length > 0 ? Long.parseLong(args[0]) : 1;
        Result result = run(seed);
        System.out.println(result.passed() ? "seed " + seed + " passed\n" + String.join("\n", result.operations())
                : result.report());
    }

    private void build() {
        int devices = 2 + gen.nextInt(2);
        for (int d = 0; d < devices; d++) {
            Device dev = m.probeOnQueue("accel" + d, 0x0100 * (d + 1));
            int pasids = 1 + gen.nextInt(2);
            for (int p = 0; p < pasids; p++) {
                int pasid = 1 + p * 2 + gen.nextInt(2);
                HandlerKind kind = gen.nextInt(100) < 15 ? HandlerKind.REFUSE : HandlerKind.SVA;
                m.attachSva(dev, pasid, kind, kind == HandlerKind.SVA ? svaHandler() : refusingHandler());
                log("attach %s PASID %d %s handler", dev.name(), pasid, kind);
            }
        }
    }

    /** iommu_sva_iopf_handler() + worker: the work answers SUCCESS or INVALID, then frees the group. */
    private IopfHandler svaHandler() {
        return group -> {
            groups.add(group);
            PageResponseCode code = handlerRandom.nextInt(4) == 0 ? PageResponseCode.INVALID : PageResponseCode.SUCCESS;
            checker.accepted(group, code);
            int work = checker.model().workQueued(group);
            group.queueWork("rand_handle_iopf", () -> {
                m.iopf.groupResponse(group, code);
                if (sabotage == Sabotage.DOUBLE_ANSWER) {
                    IommuFault last = group.lastFault();
                    group.device().ops().pageResponse(group.device(), last,
                            new PageResponse(last.pasid(), last.grpid(), code));
                }
                m.iopf.freeGroup(group);
                checker.model().workFinished(work);
            });
            return 0;
        };
    }

    private IopfHandler refusingHandler() {
        return group -> {
            groups.add(group);
            stats.refusedGroups++;
            return Errno.EBUSY.negative();
        };
    }

    private void operation(int i) {
        int dice = gen.nextInt(100);
        if (dice < 30) {
            report(i, false);
        } else if (dice < 52) {
            report(i, true);
        } else if (dice < 56) {
            int n = 1 + gen.nextInt(2);
            step(i, "fail next %d iopf-group allocation(s)", n);
            m.failures.failNext(Iopf.SITE_GROUP, n);
            checker.model().armGroupFailures(n);
        } else if (dice < 59) {
            step(i, "fail next iopf-partial allocation");
            m.failures.failNext(Iopf.SITE_PARTIAL, 1);
            checker.model().armPartialFailures(1);
        } else if (dice < 63) {
            remove(i, pick(m.devices));
        } else if (dice < 70) {
            add(i);
        } else if (dice < 74) {
            discard(i);
        } else if (dice < 83) {
            flush(i, pick(m.devices));
        } else if (dice < 90) {
            duplicateResponse(i);
        } else if (dice < 93) {
            step(i, "run until idle");
            m.loop.runUntilIdle();
        } else {
            step(i, "nothing");
        }
    }

    private void report(int i, boolean last) {
        Device dev = pick(m.devices);
        List<Integer> attached = m.attachedPasids(dev);
        int pasid = gen.nextInt(100) < 12 ? 7 + gen.nextInt(3) : attached.get(gen.nextInt(attached.size()));
        int grpid = gen.nextInt(GRPIDS);
        int flags = IommuFault.PAGE_REQUEST_PASID_VALID | (last ? IommuFault.PAGE_REQUEST_LAST_PAGE : 0);
        int perm = gen.nextBoolean() ? IommuFault.PERM_READ : IommuFault.PERM_READ | IommuFault.PERM_WRITE;
        IommuFault evt = IommuFault.pageRequest(flags, pasid, grpid, perm, BASE_VA + ((long) ++serial << 12));
        step(i, "report %s %s", dev.name(), Ledger.describe(evt));
        checker.beforeReport(dev, evt);
        int ret = m.iopf.reportDeviceFault(dev, evt);
        append(" -> " + ret);
        checker.afterReport(dev, evt, ret);
    }

    private void remove(int i, Device dev) {
        boolean on = checker.model().onQueue(dev);
        step(i, "iopf_queue_remove_device %s%s", dev.name(), on ? "" : " (not on the queue)");
        stats.removals += on ? 1 : 0;
        long before = stats.responses;
        checker.beforeRemove(dev);
        m.iopf.queueRemoveDevice(m.queue, dev);
        checker.afterRemove(dev, on);
        if (!on) {
            checker.expectSilent(before, "remove_device of a device not on the queue");
        }
    }

    private void add(int i) {
        List<Device> off = m.devices.stream().filter(d -> !checker.model().onQueue(d)).toList();
        Device dev = off.isEmpty() ? pick(m.devices) : pick(off);
        step(i, "iopf_queue_add_device %s", dev.name());
        if (off.isEmpty()) {
            try {
                m.iopf.queueAddDevice(m.queue, dev);
                checker.violation("add_device of a device already on the queue succeeded");
            } catch (KernelException e) {
                append(" -> " + e.errno());
                if (e.errno() != Errno.EBUSY) {
                    checker.violation("add_device of a device already on the queue failed with %s", e.errno());
                }
            }
            return;
        }
        stats.readds++;
        m.iopf.queueAddDevice(m.queue, dev);
        checker.model().added(dev);
    }

    private void discard(int i) {
        step(i, "iopf_queue_discard_partial");
        stats.discards++;
        long before = stats.responses;
        m.iopf.queueDiscardPartial(m.queue);
        checker.model().discarded();
        checker.expectSilent(before, "discard_partial");
    }

    private void flush(int i, Device dev) {
        Model.Flush f = checker.model().flushRequested(dev);
        step(i, "iopf_queue_flush_dev %s (flush #%d, %d work item(s) outstanding)", dev.name(), f.id,
                f.awaited.size());
        stats.flushes++;
        stats.flushesThatWaited += checker.model().flushWaits(f) ? 1 : 0;
        try {
            m.iopf.queueFlushDev(dev, () -> checker.model().flushContinued(f));
            if (f.expectEnodev) {
                checker.violation("flush_dev of a device without param did not fail");
            }
        } catch (KernelException e) {
            append(" -> " + e.errno());
            if (!f.expectEnodev || e.errno() != Errno.ENODEV) {
                checker.violation("flush_dev failed with %s", e.errno());
            }
            return;
        }
        if (!checker.model().flushWaits(f) && f.continued != 1) {
            checker.violation("flush #%d with nothing outstanding did not continue at once", f.id);
        }
    }

    private void duplicateResponse(int i) {
        List<IopfGroup> answered = groups.stream().filter(g -> checker.answered(g.lastFault())).toList();
        if (answered.isEmpty()) {
            step(i, "duplicate iopf_group_response (no answered group yet)");
            return;
        }
        IopfGroup g = pick(answered);
        PageResponseCode code = PageResponseCode.values()[gen.nextInt(3)];
        step(i, "duplicate iopf_group_response %s %s + iopf_free_group", Ledger.describe(
                g.lastFault()), code);
        stats.duplicateResponses++;
        long before = stats.responses;
        m.iopf.groupResponse(g, code);
        m.iopf.freeGroup(g);
        checker.expectSilent(before, "a duplicate iopf_group_response");
    }

    private void advance() {
        if (gen.nextInt(100) < 35) {
            long ns = gen.nextLong(6_001);
            append(" | loop runs " + ns + " ns");
            checker.step(ops.get(ops.size() - 1) + " (while the loop ran)");
            m.loop.runFor(ns);
        }
    }

    private <T> T pick(List<T> list) {
        return list.get(gen.nextInt(list.size()));
    }

    private void step(int i, String format, Object... args) {
        String text = String.format("#%d t=%d %s", i, m.loop.now(), String.format(format, args));
        ops.add(text);
        checker.step(text);
    }

    private void log(String format, Object... args) {
        ops.add(String.format(format, args));
    }

    private void append(String suffix) {
        ops.set(ops.size() - 1, ops.get(ops.size() - 1) + suffix);
    }
}
