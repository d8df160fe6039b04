package dev.iommulab.hw.pci;

import dev.iommulab.hw.iommu.AtsInvalidateRequest;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFunction;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.function.Consumer;

/**
 * A PCIe function with ATS (and its ATC), PASID and PRI. Software (the kernel's PCI layer) enables
 * the capabilities through the config-space methods; the function's DMA engine then runs work items
 * through its upstream {@link IommuHardware}.
 *
 * <p>PRI rules kept here: never more page requests outstanding than the allocation; a group's credits
 * come back with its PRG response; a Response Failure (or any unused code) sets RF, stops new requests
 * and makes the function ignore later responses until PRI is re-enabled or the function is reset.
 */
public final class PcieEndpoint implements PcieFunction {

    private final EndpointConfig config;
    private final EventLoop loop;
    private final TimingModel timing;
    private IommuHardware iommu;
    final Atc atc;

    private boolean atsEnabled;
    private boolean pasidEnabled;
    private boolean priEnabled;
    private boolean responseFailure;
    private boolean unexpectedPrgIndex;
    private int priAllocation;
    private int creditsInUse;
    private int creditHighWater;
    private int nextPrgi;
    private final Map<Integer, OutstandingGroup> outstanding = new HashMap<>();
    private final Queue<PageRequestMessage> creditWaiters = new ArrayDeque<>();
    private final List<Consumer<PrgResponse>> responseListeners = new ArrayList<>();

    /** Requests of one PRG sent so far, and whom to tell when its response comes. */
    static final class OutstandingGroup {
        int requests;
        Consumer<PrgResponseCode> waiter;
    }

    public PcieEndpoint(EndpointConfig config, EventLoop loop, TimingModel timing) {
        this.config = Objects.requireNonNull(config, "config");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.timing = Objects.requireNonNull(timing, "timing");
        this.atc = new Atc(config.atcEntries());
    }

    /** Connects the function to the IOMMU above its root port. */
    public void connect(IommuHardware upstream) {
        this.iommu = Objects.requireNonNull(upstream, "upstream");
    }

    public EndpointConfig config() {
        return config;
    }

    @Override
    public int rid() {
        return config.rid();
    }

    IommuHardware iommu() {
        if (iommu == null) {
            throw new IllegalStateException(config.name() + " is not connected to an IOMMU");
        }
        return iommu;
    }

    EventLoop loop() {
        return loop;
    }

    TimingModel timing() {
        return timing;
    }

    // ---- config space (called by the kernel's PCI layer) ----

    /** ATS control Enable (pci_enable_ats). No effect on a function without ATS. */
    public void setAtsEnabled(boolean enable) {
        atsEnabled = enable && config.ats();
        if (!atsEnabled) {
            atc.invalidateAll();
        }
    }

    /** PASID control Enable (pci_enable_pasid). */
    public void setPasidEnabled(boolean enable) {
        pasidEnabled = enable && config.pasidBits() > 0;
    }

    /**
     * PRI control: writes the Outstanding Page Request Allocation and sets Enable (pci_enable_pri).
     * Enabling clears RF and UPRGI, as re-enabling PRI recovers a function after a Response Failure.
     */
    public void enablePri(int allocation) {
        if (!config.pri()) {
            return;
        }
        priAllocation = Math.max(0, Math.min(allocation, config.priCapacity()));
        priEnabled = true;
        responseFailure = false;
        unexpectedPrgIndex = false;
    }

    /** PRI control Enable cleared (pci_disable_pri): no more requests; responses are ignored. */
    public void disablePri() {
        priEnabled = false;
    }

    public boolean atsEnabled() {
        return atsEnabled;
    }

    public boolean pasidEnabled() {
        return pasidEnabled;
    }

    public PriState priState() {
        return new PriState(priEnabled, responseFailure, unexpectedPrgIndex,
                !priEnabled && outstanding.isEmpty(), priAllocation, creditsInUse);
    }

    /** The most page requests ever outstanding at once (never above the allocation). */
    public int creditHighWater() {
        return creditHighWater;
    }

    /** Whether the function may issue page requests now. */
    boolean priUsable() {
        return priEnabled && !responseFailure;
    }

    /** Tells {@code listener} about every PRG response that reaches the function. */
    public void addPrgResponseListener(Consumer<PrgResponse> listener) {
        responseListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    // ---- DMA ----

    /** Starts a work item; {@code done} is called from a simulation event when it ends. */
    public void startDma(DmaJob job, Consumer<DmaOutcome> done) {
        new DmaEngine(this, job, done).start();
    }

    // ---- PRI ----

    /** Allocates the next Page Request Group Index that is not outstanding. */
    int allocatePrgi() {
        for (int i = 0; i <= PageRequestMessage.PRGI_MASK; i++) {
            int prgi = (nextPrgi + i) & PageRequestMessage.PRGI_MASK;
            if (!outstanding.containsKey(prgi)) {
                nextPrgi = (prgi + 1) & PageRequestMessage.PRGI_MASK;
                return prgi;
            }
        }
        return -1;
    }

    /**
     * Sends one Page Request (or Stop Marker) when a credit is free; otherwise it waits for one.
     * {@code waiter}, if not null, is told the response code of the group when it comes.
     */
    public void sendPageRequest(PageRequestMessage message, Consumer<PrgResponseCode> waiter) {
        if (message.rid() != rid()) {
            throw new IllegalArgumentException("page request RID does not match the function");
        }
        if (!message.isStopMarker()) {
            OutstandingGroup group = outstanding.computeIfAbsent(message.prgi(), k -> new OutstandingGroup());
            if (waiter != null) {
                group.waiter = waiter;
            }
        }
        creditWaiters.add(message);
        pumpCredits();
    }

    private void pumpCredits() {
        while (!creditWaiters.isEmpty() && priUsable()) {
            PageRequestMessage next = creditWaiters.peek();
            boolean needsCredit = !next.isStopMarker();
            if (needsCredit && creditsInUse >= priAllocation) {
                return;
            }
            creditWaiters.poll();
            if (needsCredit) {
                creditsInUse++;
                creditHighWater = Math.max(creditHighWater, creditsInUse);
                outstanding.get(next.prgi()).requests++;
            }
            loop.trace().step(loop.now(), Layer.DEVICE, "pci-pri",
                    String.format("%s sends %s PRGI %d addr %#x%s", config.name(),
                            next.isStopMarker() ? "Stop Marker" : "Page Request", next.prgi(), next.pageAddr(),
                            next.last() ? " (LPIG)" : ""));
            IommuHardware upstream = iommu();
            loop.schedule(timing.pcieTlpNs(), "page-request", () -> upstream.pageRequest(next));
        }
    }

    @Override
    public void prgResponse(PrgResponse response) {
        responseListeners.forEach(l -> l.accept(response));
        if (!priEnabled || responseFailure) {
            loop.trace().step(loop.now(), Layer.DEVICE, "pci-pri", String.format(
                    "%s ignores PRG response PRGI %d (PRI %s)", config.name(), response.prgi(),
                    responseFailure ? "stopped by Response Failure" : "disabled"));
            return;
        }
        OutstandingGroup group = outstanding.get(response.prgi());
        if (group == null || group.requests == 0) {
            // Keep a group whose requests still wait for credits: they are sent (and answered) later.
            unexpectedPrgIndex = true;
            loop.trace().step(loop.now(), Layer.DEVICE, "pci-pri", String.format(
                    "%s: PRG response for PRGI %d that is not outstanding (UPRGI)", config.name(), response.prgi()));
            return;
        }
        outstanding.remove(response.prgi());
        creditsInUse -= group.requests;
        PrgResponseCode code = response.code();
        loop.trace().step(loop.now(), Layer.DEVICE, "pci-pri", String.format(
                "%s receives PRG response PRGI %d: %s (wire %#x)", config.name(), response.prgi(), code,
                response.wireCode()));
        if (code == PrgResponseCode.RESPONSE_FAILURE) {
            responseFailure = true;
        }
        if (group.waiter != null) {
            group.waiter.accept(code);
        }
        pumpCredits();
    }

    @Override
    public void atsInvalidate(AtsInvalidateRequest request) {
        int dropped = atc.invalidate(request);
        loop.trace().step(loop.now(), Layer.DEVICE, "ats-inval", String.format(
                "%s invalidates ATC %#x+%#x%s: %d entr%s dropped", config.name(), request.addr(), request.size(),
                request.global() ? " (all PASIDs)" : request.pasidPresent() ? " PASID " + request.pasid() : "",
                dropped, dropped == 1 ? "y" : "ies"));
        IommuHardware upstream = iommu();
        loop.schedule(timing.pcieTlpNs(), "ats-invalidate-completion",
                () -> upstream.atsInvalidateCompletion(rid(), 1 << request.itag()));
    }

    /** Function Level Reset: capabilities disabled, ATC and PRI state cleared. */
    public void functionLevelReset() {
        atsEnabled = false;
        pasidEnabled = false;
        priEnabled = false;
        responseFailure = false;
        unexpectedPrgIndex = false;
        priAllocation = 0;
        creditsInUse = 0;
        outstanding.clear();
        creditWaiters.clear();
        atc.invalidateAll();
    }
}
