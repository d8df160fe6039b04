package dev.iommulab.hw.viommu;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.virtio.Segment;
import dev.iommulab.hw.virtio.VirtioStatus;
import dev.iommulab.hw.virtio.VirtqueueDriver;
import dev.iommulab.hw.virtio.VirtqueueLayout;

import java.util.ArrayList;
import java.util.List;

/**
 * A virtio-iommu with two endpoints in 16 MiB of guest memory and a bare driver in the test: it negotiates, sets up
 * both queues as Linux's viommu_probe() does (event buffers of 24 bytes added, no kick), sends requests one at a time
 * and reads the tail back, issues DMA for the endpoints and takes the event buffers the device used.
 */
final class ViommuRig {

    static final long MEMORY_BYTES = 16L << 20;
    /** 00:02.0 and 00:03.0: endpoint IDs are PCI requester IDs. */
    static final int EP = 0x10;
    static final int EP2 = 0x18;
    static final long REQUEST_QUEUE_AT = 0x1000;
    static final long EVENT_QUEUE_AT = 0x4000;
    static final long EVENT_BUFFERS_AT = 0x8000;
    static final long REQUEST_AREA = 0x10_0000;
    static final int QUEUE_SIZE = 16;
    static final ViommuOptions NO_BYPASS = ViommuOptions.DEFAULTS.withBootBypass(false);

    final EventLoop loop = new EventLoop(1);
    final PhysicalMemory memory = new PhysicalMemory(MEMORY_BYTES);
    final List<HwFault> faults = new ArrayList<>();
    final List<ViommuEvent> events = new ArrayList<>();
    final VirtioIommu device;
    VirtqueueDriver<Integer> requests;
    VirtqueueDriver<Integer> eventq;
    int requestIrqs;
    int eventIrqs;
    int configIrqs;
    private int nextEventBuffer;

    ViommuRig(ViommuOptions options) {
        this.device = new VirtioIommu("viommu", options, memory, loop, TimingModel.ESTIMATES, faults::add,
                events::add);
        device.addEndpoint(EP, List.of());
        device.addEndpoint(EP2, List.of(new ResvRegion(0xc0_0000, 0xcf_ffff, ViommuWire.RESV_MEM_T_MSI),
                new ResvRegion(0xfee0_0000L, 0xfeef_ffffL, ViommuWire.RESV_MEM_T_RESERVED)));
        device.setQueueInterrupt(ViommuWire.REQUEST_QUEUE, () -> requestIrqs++);
        device.setQueueInterrupt(ViommuWire.EVENT_QUEUE, () -> eventIrqs++);
        device.setConfigInterrupt(() -> configIrqs++);
    }

    /** The default device with {@code config.bypass} 0 at boot: an unattached endpoint faults. */
    ViommuRig() {
        this(NO_BYPASS);
    }

    /** Negotiates every offered feature but EVENT_IDX and INDIRECT_DESC, and adds {@code eventBuffers}. */
    ViommuRig boot(int eventBuffers) {
        long features = device.deviceFeatures() & ~(1L << ViommuWire.F_EVENT_IDX | 1L << ViommuWire.F_INDIRECT_DESC);
        return boot(features, eventBuffers);
    }

    ViommuRig boot(long features, int eventBuffers) {
        device.writeStatus(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER);
        device.writeDriverFeatures(features);
        device.writeStatus(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK);
        VirtqueueLayout rq = VirtqueueLayout.contiguous(QUEUE_SIZE, REQUEST_QUEUE_AT);
        VirtqueueLayout eq = VirtqueueLayout.contiguous(QUEUE_SIZE, EVENT_QUEUE_AT);
        requests = VirtqueueDriver.create(memory, rq, false);
        eventq = VirtqueueDriver.create(memory, eq, false);
        device.setQueue(ViommuWire.REQUEST_QUEUE, rq);
        device.setQueue(ViommuWire.EVENT_QUEUE, eq);
        device.writeStatus(VirtioStatus.ACKNOWLEDGE | VirtioStatus.DRIVER | VirtioStatus.FEATURES_OK
                | VirtioStatus.DRIVER_OK);
        addEventBuffers(eventBuffers);
        return this;
    }

    /** Adds {@code n} 24-byte device-writable event buffers, without a kick. */
    void addEventBuffers(int n) {
        for (int i = 0; i < n; i++) {
            long at = EVENT_BUFFERS_AT + 32L * (nextEventBuffer++ % 256);
            eventq.addSgs(List.of(), List.of(new Segment(at, ViommuWire.FAULT_BYTES)), (int) at);
        }
    }

    /** Kicks the event queue and lets the device look. */
    void kickEvents() {
        device.notify(ViommuWire.EVENT_QUEUE);
        loop.runUntilIdle();
    }

    /** Sends {@code r} with a 4-byte tail and returns the status, or null when the device wrote nothing. */
    ViommuStatus send(ViommuRequest r) {
        byte[] body = r.encode();
        int tail = r instanceof ViommuRequest.Probe ? device.options().probeSize() + 4 : 4;
        long used = sendRaw(body, tail);
        return used <= 0 ? null : ViommuStatus.of(memory.readByte(REQUEST_AREA + 0x800 + used - 4) & 0xff);
    }

    /**
     * Sends {@code body} as the readable part and {@code writable} bytes (0xff-filled) as the writable part, kicks,
     * runs the loop; returns the used length, or -1 when the device returned nothing.
     */
    long sendRaw(byte[] body, int writable) {
        memory.write(REQUEST_AREA, body);
        memory.write(REQUEST_AREA + 0x800, filled(writable));
        List<Segment> out = body.length == 0 ? List.of() : List.of(new Segment(REQUEST_AREA, body.length));
        List<Segment> in = writable == 0 ? List.of() : List.of(new Segment(REQUEST_AREA + 0x800, writable));
        requests.addSgs(out, in, 1);
        device.notify(ViommuWire.REQUEST_QUEUE);
        loop.runUntilIdle();
        return requests.getBuf().map(VirtqueueDriver.UsedBuffer::len).orElse(-1L);
    }

    /** The writable part of the last request. */
    byte[] written(int length) {
        return memory.read(REQUEST_AREA + 0x800, length);
    }

    ViommuStatus attach(int domain, int endpoint) {
        return send(new ViommuRequest.Attach(domain, endpoint, 0));
    }

    ViommuStatus map(int domain, long start, long end, long phys, int flags) {
        return send(new ViommuRequest.Map(domain, start, end, phys, flags));
    }

    DmaCompletion read(int endpoint, long addr, int length) {
        DmaCompletion c = device.memoryRequest(new DmaRequest(endpoint, AddressType.UNTRANSLATED, false, 0, addr,
                length, Access.READ, false, null));
        loop.runUntilIdle();
        return c;
    }

    DmaCompletion write(int endpoint, long addr, byte[] data) {
        DmaCompletion c = device.memoryRequest(new DmaRequest(endpoint, AddressType.UNTRANSLATED, false, 0, addr,
                data.length, Access.WRITE, false, WriteData.of(data)));
        loop.runUntilIdle();
        return c;
    }

    /** The records in the event buffers the device used since the last call, with their used lengths. */
    List<byte[]> takeEvents() {
        List<byte[]> out = new ArrayList<>();
        for (var b = eventq.getBuf(); b.isPresent(); b = eventq.getBuf()) {
            out.add(memory.read(b.get().token(), (int) b.get().len()));
        }
        return out;
    }

    static byte[] filled(int n) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) 0xff);
        return b;
    }
}
