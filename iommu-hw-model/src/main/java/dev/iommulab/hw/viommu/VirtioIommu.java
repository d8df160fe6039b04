package dev.iommulab.hw.viommu;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.InterruptLine;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.sim.Trace;
import dev.iommulab.hw.virtio.PopResult;
import dev.iommulab.hw.virtio.VirtioStatus;
import dev.iommulab.hw.virtio.VirtqueueDevice;
import dev.iommulab.hw.virtio.VirtqueueLayout;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A virtio-iommu device (virtio 1.x §5.13; reference/iommu-hardware.md §2.5) as the virtual machine monitor emulates
 * it — QEMU's hw/virtio/virtio-iommu.c — for the endpoints behind it. The guest driver reaches it through a
 * transport: features, status, the 40-byte configuration, two virtqueues in guest memory (requests, events) and
 * their notifications; requests are handled {@link TimingModel#vmExitNs()} after the kick, each answered in the used
 * ring before the next is read. Endpoints reach it through {@link IommuHardware}: an access is translated by the
 * domain's mappings, or refused with UR and a fault record in the event queue (no ATS, no PRI, no PASID).
 *
 * <p>What the VMM prints (QEMU's {@code error_report_once()} and {@code virtio_error()} texts) is kept in
 * {@link #vmmLog()}. An error that breaks the device — a malformed chain, or one of QEMU's own virtio_error() cases
 * under {@link ViommuOptions.Implementation#QEMU} — sets {@link VirtioStatus#DEVICE_NEEDS_RESET}, stops both queues
 * and raises the configuration interrupt; only a reset (status 0) brings the device back.
 *
 * <p>Longer than 300 lines on purpose: it is the device's whole public surface — the transport the guest driver
 * sees and the device side its endpoints see — each entry a few lines handing the work to its parts
 * ({@code ConfigSpace}, {@code RequestHandler}, {@code Domains}, {@code Translator}, {@code EventReporter}).
 */
public final class VirtioIommu implements IommuHardware {

    private static final int QUEUES = 2;

    private final String name;
    private final ViommuOptions options;
    private final PhysicalMemory memory;
    private final EventLoop loop;
    private final TimingModel timing;
    private final Domains domains;
    private final Translator translator;
    private final RequestHandler requests;
    private final EventReporter events;
    private final VirtqueueDevice[] queues = new VirtqueueDevice[QUEUES];
    private final InterruptLine[] queueLines = new InterruptLine[QUEUES];
    private final Set<String> logged = new LinkedHashSet<>();
    private final List<String> vmmLog = new ArrayList<>();
    private long faultsDetected;
    private InterruptLine configLine;
    private long driverFeatures;
    private int status;
    private boolean needsReset;
    private final ConfigSpace config;

    /**
     * @param memory guest-physical memory: the queues, the buffers and every translated access live there
     */
    public VirtioIommu(String name, ViommuOptions options, PhysicalMemory memory, EventLoop loop, TimingModel timing,
                       HwFaultObserver faultObserver, ViommuEventObserver eventObserver) {
        this.name = Objects.requireNonNull(name, "name");
        this.options = Objects.requireNonNull(options, "options");
        this.memory = Objects.requireNonNull(memory, "memory");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.timing = Objects.requireNonNull(timing, "timing");
        this.domains = new Domains(options, memory);
        this.translator = new Translator(options, domains);
        this.requests = new RequestHandler(options, memory, domains);
        this.events = new EventReporter(this, memory, loop, Objects.requireNonNull(faultObserver, "faultObserver"),
                Objects.requireNonNull(eventObserver, "eventObserver"));
        this.config = new ConfigSpace(options);
    }

    public ViommuOptions options() {
        return options;
    }

    // ---- platform ----

    /**
     * Puts endpoint {@code id} (its PCI requester ID) behind this IOMMU, with the reserved regions PROBE reports
     * for it.
     */
    public void addEndpoint(int id, List<ResvRegion> regions) {
        domains.addEndpoint(id, regions);
    }

    /**
     * Every function on {@code fabric} sits behind this IOMMU (QEMU: every PCI device on its bus), each with the
     * reserved regions {@code regions} (QEMU's {@code reserved-regions} property); endpoints added one by one keep
     * their own.
     */
    public void endpointsOn(PcieFabric fabric, List<ResvRegion> regions) {
        domains.endpointsOn(Objects.requireNonNull(fabric, "fabric"), regions);
    }

    /** A system reset: a device reset, and {@code config.bypass} back to its boot value. */
    public void systemReset() {
        reset();
        config.systemReset();
    }

    // ---- transport ----

    public long deviceFeatures() {
        return options.features();
    }

    /** The driver's accepted features; only bits the device offers are kept. */
    public void writeDriverFeatures(long features) {
        driverFeatures = features & options.features();
    }

    public long driverFeatures() {
        return driverFeatures;
    }

    public int status() {
        return status | (needsReset ? VirtioStatus.DEVICE_NEEDS_RESET : 0);
    }

    /**
     * The driver writes the status (virtio 1.x §3.1.1): 0 resets the device; {@code FEATURES_OK} sticks only when
     * the accepted features include {@code VIRTIO_F_VERSION_1}, as a modern-only device requires.
     */
    public void writeStatus(int value) {
        if (value == 0) {
            reset();
            return;
        }
        int next = value & ~VirtioStatus.DEVICE_NEEDS_RESET;
        if ((next & VirtioStatus.FEATURES_OK) != 0 && !ViommuWire.has(driverFeatures, ViommuWire.F_VERSION_1)) {
            next &= ~VirtioStatus.FEATURES_OK;
        }
        status = next;
    }

    /** Reads {@code width} (1, 2, 4 or 8) bytes of {@code struct virtio_iommu_config} at {@code offset}. */
    public long readConfig(int offset, int width) {
        return config.read(offset, width);
    }

    /**
     * Writes the configuration: only {@code bypass} is writable, and only with BYPASS_CONFIG negotiated and a value of
     * 0 or 1. QEMU breaks the device on any other write to it; by the specification the write is ignored.
     */
    public void writeConfig(int offset, int width, long value) {
        String error = config.write(offset, width, value, driverFeatures);
        if (error != null && options.implementation() == ViommuOptions.Implementation.QEMU) {
            fail(error);
        }
    }

    /** The driver gives queue {@code index} its rings (queue_desc, queue_driver, queue_device, queue_enable). */
    public void setQueue(int index, VirtqueueLayout layout) {
        if (index < 0 || index >= QUEUES) {
            return; // no such queue: the transport ignores it
        }
        queues[index] = new VirtqueueDevice(memory, layout,
                ViommuWire.has(driverFeatures, ViommuWire.F_EVENT_IDX));
    }

    /** The MSI-X vector of queue {@code index}. */
    public void setQueueInterrupt(int index, InterruptLine line) {
        if (index >= 0 && index < QUEUES) {
            queueLines[index] = line;
        }
    }

    /** The configuration-change vector, raised when the device needs a reset. */
    public void setConfigInterrupt(InterruptLine line) {
        configLine = line;
    }

    /** The driver's notification (kick) of queue {@code index}; the device handles it after a VM exit. */
    public void notify(int index) {
        if (index < 0 || index >= QUEUES) {
            return; // a notification of a queue the device does not have, ignored as QEMU does
        }
        loop.schedule(timing.vmExitNs(), "viommu-notify", () -> {
            if (liveQueue(index) == null) {
                return;
            }
            if (index == ViommuWire.REQUEST_QUEUE) {
                handleRequests();
            } else {
                events.refill();
            }
        });
    }

    private void handleRequests() {
        VirtqueueDevice q = queues[ViommuWire.REQUEST_QUEUE];
        while (!needsReset) {
            PopResult popped = q.pop();
            if (popped instanceof PopResult.Malformed m) {
                fail(m.message());
            }
            if (!(popped instanceof PopResult.Popped p)) {
                return;
            }
            RequestHandler.Outcome outcome = requests.handle(p.chain(), driverFeatures);
            if (outcome.error() != null) {
                fail(outcome.error());
                return;
            }
            q.push(p.chain(), outcome.written());
            trace("viommu_handle_command", "%s", outcome.what());
            interrupt(ViommuWire.REQUEST_QUEUE);
        }
    }

    // ---- device side ----

    @Override
    public DmaCompletion memoryRequest(DmaRequest request) {
        boolean unattachedBypass = options.offers(ViommuWire.F_BYPASS_CONFIG) && config.bypass() == 1
                || ViommuWire.has(driverFeatures, ViommuWire.F_BYPASS);
        Translator.Result r = translator.translate(request, unattachedBypass);
        if (r.allowed()) {
            return DmaCompletion.perform(memory, r.gpa(), request);
        }
        trace("viommu_translate", "%s fault from endpoint %d at %#x", r.fault().reason(), request.rid(),
                request.addr());
        faultsDetected++;
        if (r.report() != null && options.implementation() == ViommuOptions.Implementation.QEMU) {
            logOnce("translate-" + r.site(), "virtio_iommu_translate " + r.report());
        }
        events.report(r.fault(), request.access(), r.reason());
        return DmaCompletion.failed(CompletionStatus.UR);
    }

    /** No ATS: a Translation Request is an unsupported request. */
    @Override
    public AtsCompletion translationRequest(AtsTranslationRequest request) {
        return AtsCompletion.error(CompletionStatus.UR);
    }

    /** No PRI: a Page Request Message goes nowhere. */
    @Override
    public void pageRequest(PageRequestMessage message) {
        trace("viommu-prq", "page request from %04x dropped: no PRI", message.rid());
    }

    // ---- state, for reports and tests ----

    /** Whether the device set DEVICE_NEEDS_RESET and stopped. */
    public boolean needsReset() {
        return needsReset;
    }

    /**
     * What the VMM printed about this device, in order, as QEMU prints it (without the program name): its
     * {@code virtio_error()} texts and its once-only reports (under {@link ViommuOptions.Implementation#QEMU} also
     * those of virtio_iommu_translate(), which name the function).
     */
    public List<String> vmmLog() {
        return List.copyOf(vmmLog);
    }

    /** Every request not answered OK, in order. */
    public List<ViommuRefusal> refusals() {
        return requests.refusals();
    }

    /** Accesses refused so far: each is one fault, whatever became of its record. */
    public long faultsDetected() {
        return faultsDetected;
    }

    /** Fault records delivered, dropped, and held for a buffer. */
    public long eventsDelivered() {
        return events.delivered();
    }

    public long eventsDropped() {
        return events.dropped();
    }

    public int eventsHeld() {
        return events.held();
    }

    /** The faults whose records still wait for an event buffer ({@code no-buffer: wait}), oldest first. */
    public List<ViommuFault> heldFaults() {
        return events.heldFaults();
    }

    /** The current {@code config.bypass}. */
    public int bypass() {
        return config.bypass();
    }

    /** Domains that exist now. */
    public int domainCount() {
        return domains.domainCount();
    }

    // ---- package-private: the pieces of the device call back ----

    /** Queue {@code index} when the driver set it up and the device runs (DRIVER_OK, not broken), else null. */
    VirtqueueDevice liveQueue(int index) {
        boolean running = (status & VirtioStatus.DRIVER_OK) != 0 && !needsReset;
        return running ? queues[index] : null;
    }

    /** QEMU's virtio_error(): the device needs a reset, its queues stop, the driver gets a config interrupt. */
    void fail(String message) {
        vmmLog.add(message);
        trace("viommu-error", "%s: DEVICE_NEEDS_RESET", message);
        if (!needsReset && (status & VirtioStatus.DRIVER_OK) != 0) {
            raise(configLine);
        }
        needsReset = true;
    }

    /** QEMU's {@code error_report_once()}: the call site {@code site} prints {@code line} the first time only. */
    void logOnce(String site, String line) {
        if (logged.add(site)) {
            vmmLog.add(line);
        }
    }

    /** Interrupts the driver for queue {@code index} when the queue says it wants one. */
    void interrupt(int index) {
        if (queues[index].needsNotification()) {
            raise(queueLines[index]);
        }
    }

    private void raise(InterruptLine line) {
        if (line != null) {
            loop.schedule(timing.msiNs(), "viommu-irq", line::raise);
        }
    }

    private void reset() {
        events.reset();
        domains.reset();
        for (int i = 0; i < QUEUES; i++) {
            queues[i] = null;
        }
        status = 0;
        driverFeatures = 0;
        needsReset = false;
    }

    private void trace(String symbol, String format, Object... args) {
        if (loop.trace().enabled()) {
            loop.trace().step(loop.now(), Layer.IOMMU, symbol, "%s: " + format, Trace.prepend(name, args));
        }
    }
}
