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
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * A PCIe function with ATS (and its ATC), PASID and PRI. Software (the kernel's PCI layer) enables the
 * capabilities through the config-space methods; the function's DMA engines then run work items through
 * its upstream {@link IommuHardware}, reacting to errors as its {@link DeviceProfile} does.
 *
 * <p>The parts, each in its own class: {@link Atc} (translation cache), {@link AtsInvalidations} (ATS
 * Invalidate Request / Completion), {@link ReadTags} (outstanding non-posted requests),
 * {@link PriCapability} (PRI state machine and credits), {@link DmaEngine} / {@link PageTranslator} (one
 * work item) and a {@link ProfileBehaviour} per profile.
 *
 * <p>Why over 300 lines: this is the function's whole config-space and TLP surface that IOMMU models and the
 * kernel's PCI layer call; it only wires those parts together.
 */
public final class PcieEndpoint implements PcieFunction {

    private final EndpointConfig config;
    private final EventLoop loop;
    private final TimingModel timing;
    private final ProfileBehaviour profile;
    private IommuHardware iommu;
    final Atc atc;
    private final ReadTags tags;
    private final PriCapability pri;
    private final AtsInvalidations invalidations;
    /** The work items running, in the order they started (a few at most: a list beats hashing each engine). */
    private final List<DmaEngine> engines = new ArrayList<>();
    private final List<Consumer<MemoryAccess>> accessListeners = new ArrayList<>();
    private boolean atsEnabled;
    private boolean pasidEnabled;
    private boolean functional = true;
    private int generation;

    public PcieEndpoint(EndpointConfig config, EventLoop loop, TimingModel timing) {
        this.config = Objects.requireNonNull(config, "config");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.timing = Objects.requireNonNull(timing, "timing");
        this.profile = ProfileBehaviour.of(config.profile());
        this.atc = new Atc(config.atcEntries());
        this.invalidations = new AtsInvalidations(this);
        this.tags = new ReadTags(config.options().readTags(), invalidations::onRetired);
        this.pri = new PriCapability(this);
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

    ProfileBehaviour profile() {
        return profile;
    }

    ReadTags tags() {
        return tags;
    }

    PriCapability pri() {
        return pri;
    }

    /** Bumped by FLR: completions of requests sent before it are discarded. */
    int generation() {
        return generation;
    }

    // ---- config space (called by the kernel's PCI layer) ----

    /** ATS control Enable (pci_enable_ats). No effect on a function without ATS; disabling empties the ATC. */
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
     * PRI control: writes the Outstanding Page Request Allocation (capped at the Capacity) and sets Enable
     * (pci_enable_pri). Setting Enable from clear clears RF and UPRGI, as re-enabling PRI recovers a
     * function after a Response Failure. No effect on a function without PRI.
     */
    public void enablePri(int allocation) {
        if (config.pri()) {
            pri.enable(allocation);
        }
    }

    /** PRI control Enable cleared (pci_disable_pri): no more requests; outstanding groups may still be answered. */
    public void disablePri() {
        pri.disable();
    }

    /**
     * PRI control Reset (pci_reset_pri): only while Enable is clear, clears RF, UPRGI, the credit counter and
     * every pending request; returns false (and does nothing) while PRI is enabled.
     */
    public boolean resetPri() {
        return config.pri() && pri.reset();
    }

    public boolean atsEnabled() {
        return atsEnabled;
    }

    public boolean pasidEnabled() {
        return pasidEnabled;
    }

    public PriState priState() {
        return pri.state();
    }

    /** PRI status PRG Response PASID Required (pci_prg_resp_pasid_required). */
    public boolean prgResponsePasidRequired() {
        return config.pri() && config.options().prgResponsePasidRequired();
    }

    /** The most page requests ever outstanding at once (never above the allocation). */
    public int creditHighWater() {
        return pri.creditHighWater();
    }

    /** Page requests sent beyond the allocation in force at the time (always 0 for a compliant function). */
    public int creditOverruns() {
        return pri.creditOverruns();
    }

    /** Tells {@code listener} about every PRG response that reaches the function. */
    public void addPrgResponseListener(Consumer<PrgResponse> listener) {
        pri.addResponseListener(Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Tells {@code listener} about every memory request of this function that the IOMMU performed, at the instant
     * it did ({@link MemoryAccess}). Requests the IOMMU blocked are not told.
     */
    public void addMemoryAccessListener(Consumer<MemoryAccess> listener) {
        accessListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** A DMA engine's request reached memory. */
    void memoryAccessed(MemoryAccess access) {
        accessListeners.forEach(l -> l.accept(access));
    }

    // ---- device state ----

    /** False once a descriptor fetch failed: every work item fails with {@code device-error} until FLR. */
    public boolean functional() {
        return functional;
    }

    void markNonFunctional() {
        functional = false;
    }

    /** Translations cached in the ATC now (at most {@code config().atcEntries()}). */
    public int atcEntriesInUse() {
        return atc.size();
    }

    /** Read and Translation Request tags in use now; 0 whenever the function is quiet (no tag leaks). */
    public int outstandingReadTags() {
        return tags.outstanding();
    }

    /** The most tags ever in use at once. */
    public int readTagHighWater() {
        return tags.highWater();
    }

    /** Fault knob: from now on the function never sends an ATS Invalidate Completion (or again does). */
    public void setInvalidationsNeverComplete(boolean never) {
        invalidations.setNeverComplete(never);
    }

    // ---- DMA ----

    /** Starts a work item; {@code done} is called from a simulation event when it ends. */
    public void startDma(DmaJob job, Consumer<DmaOutcome> done) {
        DmaEngine engine = new DmaEngine(this, Objects.requireNonNull(job, "job"), Objects.requireNonNull(done, "done"));
        engines.add(engine);
        engine.start();
    }

    void unregister(DmaEngine engine) {
        engines.remove(engine);
    }

    /**
     * The device driver tells the function to stop using {@code pasid} (PCIe PASID stop with a Stop Marker,
     * reference §6 scenario 46): work items of the PASID are aborted once their outstanding reads and
     * translation requests retired; page requests not sent yet are dropped, an open group is finished with
     * its LPIG, and a Stop Marker follows the last request of the PASID. {@code stopped} runs when both are
     * done. Work items started later may use the PASID again.
     */
    public void stopPasid(int pasid, Runnable stopped) {
        if ((pasid & ~0xfffff) != 0) {
            throw new IllegalArgumentException("pasid must be 20 bits: " + pasid);
        }
        Objects.requireNonNull(stopped, "stopped");
        List<DmaEngine> victims = engines.stream().filter(e -> e.job().pasid() == pasid).toList();
        loop.trace().step(loop.now(), Layer.DEVICE, "pci-pasid",
                "%s stops PASID %d: %d work item(s) to abort", config.name(), pasid, victims.size());
        int[] remaining = {victims.size() + 1};
        Runnable arrive = () -> {
            if (--remaining[0] == 0) {
                stopped.run();
            }
        };
        victims.forEach(e -> e.abort(arrive));
        pri.stopPasid(pasid, arrive);
    }

    /** {@link #stopPasid(int, Runnable)} without a completion callback. */
    public void stopPasid(int pasid) {
        stopPasid(pasid, () -> { });
    }

    // ---- PRI and ATS messages ----

    /**
     * Sends one Page Request (or Stop Marker) as software or a scenario asks, when a credit is free;
     * otherwise it waits for one. {@code waiter}, if not null, is told the response code of the group.
     */
    public void sendPageRequest(PageRequestMessage message, Consumer<PrgResponseCode> waiter) {
        if (message.rid() != rid()) {
            throw new IllegalArgumentException("page request RID does not match the function");
        }
        pri.sendOne(message, waiter == null ? null : new PriCapability.GroupListener() {
            @Override
            public void answered(PrgResponseCode code) {
                waiter.accept(code);
            }

            @Override
            public void abandoned() {
            }
        });
    }

    @Override
    public void prgResponse(PrgResponse response) {
        pri.onResponse(response);
    }

    @Override
    public void atsInvalidate(AtsInvalidateRequest request) {
        invalidations.receive(request);
    }

    /**
     * Function Level Reset: running work items end {@code aborted}, outstanding requests are forgotten (their
     * completions are discarded), the ATC is emptied, ATS, PASID and PRI return to their reset state
     * (disabled, allocation 0, RF/UPRGI clear) and a non-functional function works again. Software restores
     * the capabilities afterwards (Linux pci_restore_pri_state). Fault knobs stay as they are.
     */
    public void functionLevelReset() {
        generation++;
        new ArrayList<>(engines).forEach(DmaEngine::resetAbort);
        engines.clear();
        atsEnabled = false;
        pasidEnabled = false;
        functional = true;
        tags.clear();
        atc.invalidateAll();
        invalidations.functionLevelReset();
        pri.functionLevelReset();
        loop.trace().step(loop.now(), Layer.DEVICE, "pci-flr", config.name() + " Function Level Reset");
    }
}
