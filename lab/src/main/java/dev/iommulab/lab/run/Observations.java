package dev.iommulab.lab.run;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.hw.viommu.VirtioIommu;
import dev.iommulab.lab.machine.Machine;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the runner watches during a run: faults reported to the core, groups handed to handlers,
 * responses decided by software, PRG responses reaching functions (paired with the software decision
 * that caused them, else attributed to the hardware), DMA outcomes, and every memory access with a PASID, judged
 * when it happens ({@link MappingWatch}). Every event carries the scenario
 * step that was running when it happened ({@link #step}), so an invariant violation can name it.
 *
 * <p>Requests and groups are judged as their events happen ({@link RequestLedger}), which keeps only what is in
 * flight; what stays for the report is one entry per PRG response delivered and per DMA work item. {@link #work()}
 * counts what the bookkeeping and the checks visit: it grows with the events of a run, never with their square.
 */
final class Observations implements FaultEvents.Listener {

    /** Step label used before the first step and for machines driven without a runner. */
    static final String NO_STEP = "(no step)";

    /** A device's page request group index, what a PRG response names. */
    record GroupKey(String device, int grpid) {
    }

    /**
     * A PRG response that reached a function; {@code latencyNs} is the time since its group's LPIG request was
     * reported to the core, null for a response no report preceded (the hardware answered by itself).
     */
    record Delivered(long atNs, String device, PrgResponse response, ResponseOrigin origin, Long latencyNs) {
    }

    /** A DMA work item of a device, finished or not. */
    static final class DmaItem {
        final String device;
        final Integer pasid;
        final String process;
        DmaOutcome outcome;
        /** For an SVA write that completed: whether its bytes were in the process's memory when it did. */
        Boolean memoryMatches;
        final DmaJob job;
        final String step;

        DmaItem(String device, Integer pasid, String process, DmaJob job, String step) {
            this.device = device;
            this.pasid = pasid;
            this.process = process;
            this.job = job;
            this.step = step;
        }

        /**
         * The work item ended with {@code o}; {@code mm} is the process it worked for, or null, and {@code va} where
         * in it the bytes belong.
         */
        void finish(DmaOutcome o, MmStruct mm, long va) {
            outcome = o;
            if (o.status() == DmaStatus.OK && job.access() == Access.WRITE && mm != null) {
                memoryMatches = holds(mm, va);
            }
        }

        /** Whether {@code mm} holds the job's bytes at {@code va}, compared page by page (nothing of size kept). */
        private boolean holds(MmStruct mm, long va) {
            for (long done = 0; done < job.size(); ) {
                int chunk = (int) Math.min(job.size() - done, 4096 - ((va + done) & 4095));
                long pa = mm.physicalAddress(va + done);
                boolean same = pa >= 0 ? job.payload().matches(done, mm.memory(), pa, chunk)
                        : job.payload().matches(done, new byte[chunk]); // nothing maps it: reads as zero
                if (!same) {
                    return false;
                }
                done += chunk;
            }
            return true;
        }
    }

    private final EventLoop loop;
    private final Machine machine;
    /** The requests in flight and the fault-path violations found so far. */
    final RequestLedger ledger;
    final List<Delivered> delivered = new ArrayList<>();
    /** fault_param users that did not match 1 + live groups when sampled at a step boundary. */
    final List<String> usersMismatches = new ArrayList<>();
    final List<DmaItem> dma = new ArrayList<>();
    /** Every PASID access the IOMMU performed, judged against the mappings at that instant. */
    final MappingWatch mappings;
    /** Behind a virtio-iommu (a guest): every access, judged against what the guest mapped; else null. */
    final GuestDmaWatch guestDma;
    /** Raw LPIG page requests sent by steps, per device/grpid, with their send time (for latency). */
    final Map<GroupKey, Deque<Long>> rawLpigSentAt = new HashMap<>();
    final List<Long> rawServiceLatencies = new ArrayList<>();
    long faultsReported;
    /** LPIG requests among {@link #faultsReported}: the groups io-pgfault was asked to build. */
    long lpigReported;
    String step = NO_STEP;
    private int stepsStarted;
    private final Map<Integer, List<RunResult.ParkedEntry>> parked = new TreeMap<>();
    private final Map<Integer, List<RunResult.FaultQueueEntry>> faultQueues = new TreeMap<>();
    private final Map<Device, Integer> epochs = new HashMap<>();
    private final Map<Device, Boolean> published = new HashMap<>();
    /** Responses decided by software and not delivered yet, per group index, oldest first. */
    private final Map<GroupKey, Deque<Decision>> inFlight = new HashMap<>();
    private long work;

    /** A response on its way to its function: who decided it, and when its request was reported (null if never). */
    private record Decision(ResponseOrigin origin, Long reportedAtNs) {
    }

    /**
     * Watches {@code machine}; {@code abortCode} is what {@code err_abort} must send (the abort policy; the kernel's
     * is FAILURE), or null when either FAILURE or INVALID is acceptable.
     */
    Observations(Machine machine, PageResponseCode abortCode) {
        this.machine = machine;
        this.loop = machine.loop();
        this.ledger = new RequestLedger(abortCode);
        machine.faultEvents().addListener(this);
        for (PcieEndpoint ep : machine.endpoints().values()) {
            ep.addPrgResponseListener(r -> onDelivered(ep.config().name(), r));
        }
        mappings = new MappingWatch(machine, () -> step);
        guestDma = machine.hardware() instanceof VirtioIommu ? new GuestDmaWatch(machine, () -> step) : null;
    }

    /** The runner is about to perform {@code label}; samples the devices' fault params and partials first. */
    void stepStarting(String label) {
        sample();
        sampleParked();
        sampleFaultQueues();
        stepsStarted++;
        step = label;
    }

    /** The run (or a test) is over; samples the devices' fault params and partials once more. */
    void finished() {
        sample();
        sampleParked();
        sampleFaultQueues();
    }

    /** The groups each process's fault object held after each step, in step order. */
    List<RunResult.FaultQueueEntry> faultQueuesAfterSteps() {
        return faultQueues.values().stream().flatMap(List::stream).toList();
    }

    /** Counts the groups every process's fault object holds, as they are when step {@link #stepsStarted} is over. */
    private void sampleFaultQueues() {
        List<RunResult.FaultQueueEntry> now = new ArrayList<>();
        machine.userspaceProcesses().forEach((name, p) -> now.add(new RunResult.FaultQueueEntry(stepsStarted, name,
                p.unread(), p.unanswered())));
        faultQueues.put(stepsStarted, List.copyOf(now));
    }

    /** Partials parked after each step, in step order. */
    List<RunResult.ParkedEntry> parkedAfterSteps() {
        return parked.values().stream().flatMap(List::stream).toList();
    }

    /** Counts the partials of every device by PASID, as they are when step {@link #stepsStarted} is over. */
    private void sampleParked() {
        List<RunResult.ParkedEntry> now = new ArrayList<>();
        for (String name : machine.endpoints().keySet()) {
            Device dev = machine.device(name);
            if (dev == null) {
                continue;
            }
            Map<Integer, Integer> byPasid = new TreeMap<>(Comparator.nullsFirst(Comparator.naturalOrder()));
            iopf().partials(dev).forEach(f -> byPasid.merge(f.pasidValid() ? f.pasid() : null, 1, Integer::sum));
            byPasid.forEach((pasid, n) -> now.add(new RunResult.ParkedEntry(stepsStarted, name, pasid, n)));
        }
        parked.put(stepsStarted, List.copyOf(now));
    }

    /**
     * Elements visited by the bookkeeping and the checks: what a run costs the lab beyond the simulation itself. It
     * grows with the events of the run, never with their square.
     */
    long work() {
        return work + ledger.work;
    }

    @Override
    public void faultReceived(Device dev, IommuFault fault) {
        ledger.received(fault);
    }

    @Override
    public void faultReported(Device dev, IommuFault fault, int ret) {
        faultsReported++;
        ledger.reported(dev, fault, step, epoch(dev), loop.now());
        if (fault.lastPage()) {
            lpigReported++;
        }
        samplePublished(dev);
    }

    @Override
    public void groupDispatched(Device dev, List<IommuFault> faults) {
        samplePublished(dev);
        IommuFault last = faults.get(faults.size() - 1);
        List<IommuFault> partials = iopf().partials(dev);
        work += 1 + partials.size();
        List<IommuFault> left = partials.isEmpty() ? List.of()
                : partials.stream().filter(p -> p.grpid() == last.grpid()).toList();
        ledger.dispatched(dev, faults, left, step, epoch(dev));
    }

    @Override
    public void pageResponse(Device dev, IommuFault evt, PageResponse response, ResponseOrigin origin) {
        Long reportedAt = ledger.answered(dev, evt, response, origin, step);
        inFlight.computeIfAbsent(new GroupKey(dev.name(), response.grpid()), k -> new ArrayDeque<>())
                .add(new Decision(origin, reportedAt));
    }

    /** A step sent a raw LPIG page request now. */
    void rawLpigSent(String device, int grpid) {
        rawLpigSentAt.computeIfAbsent(new GroupKey(device, grpid), k -> new ArrayDeque<>()).add(loop.now());
    }

    private void onDelivered(String device, PrgResponse r) {
        GroupKey key = new GroupKey(device, r.prgi());
        Deque<Decision> waiting = inFlight.get(key);
        Decision cause = waiting == null ? null : waiting.poll();
        Long reportedAt = cause == null ? null : cause.reportedAtNs();
        delivered.add(new Delivered(loop.now(), device, r, cause == null ? ResponseOrigin.HARDWARE : cause.origin(),
                reportedAt == null ? null : loop.now() - reportedAt));
        Deque<Long> sent = rawLpigSentAt.get(key);
        if (sent != null && !sent.isEmpty()) {
            rawServiceLatencies.add(loop.now() - sent.poll());
        }
    }

    int epoch(Device dev) {
        return epochs.getOrDefault(dev, 0);
    }

    /** {@code items}, counted in {@link #work} as visited: a check's pass over what was observed. */
    <T> List<T> visit(List<T> items) {
        work += items.size();
        return items;
    }

    private void sample() {
        for (String name : machine.endpoints().keySet()) {
            Device dev = machine.device(name);
            if (dev != null) {
                samplePublished(dev);
                checkUsers(dev);
            }
        }
    }

    private void samplePublished(Device dev) {
        boolean now = iopf().faultParamUsers(dev) > 0;
        Boolean before = published.put(dev, now);
        if (Boolean.TRUE.equals(before) && !now) {
            epochs.merge(dev, 1, Integer::sum);
            ledger.deviceLeft(dev, step);
        }
    }

    /** §8b.3 at a quiet point: users = 1 (queue) + live groups. */
    private void checkUsers(Device dev) {
        int users = iopf().faultParamUsers(dev);
        if (users == 0 || !loop.isIdle()) {
            return;
        }
        long live = ledger.liveGroups(dev);
        if (users != 1 + live && usersMismatches.stream().noneMatch(m -> m.startsWith(dev.name() + " "))) {
            usersMismatches.add(dev.name() + " fault_param users " + users + ", expected 1 + " + live
                    + " live group(s), after " + step);
        }
    }

    private Iopf iopf() {
        return machine.iopf();
    }
}
