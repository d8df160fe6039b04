package dev.iommulab.core.fault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.sim.TraceEvent;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The legacy domain fault handler: iommu_set_fault_handler() and report_iommu_fault() in drivers/iommu/iommu.c,
 * IOMMU_FAULT_READ/IOMMU_FAULT_WRITE and the cookie rule of include/linux/iommu.h.
 */
class LegacyFaultReportingTest {

    /** One call a handler received. */
    private record Call(IommuDomain domain, Device dev, long iova, int flags, Object token) {
    }

    private final EventLoop loop = new EventLoop(1);
    private final KernelLog log = new KernelLog(loop);
    private final LegacyFaultReporting reporting = new LegacyFaultReporting(log, loop);
    private final IommuOps ops = mock(IommuOps.class);
    private final Device dev;
    private final IommuDomain unmanaged;

    LegacyFaultReportingTest() {
        when(ops.name()).thenReturn("dmar0");
        dev = new IommuCore().probeDevice(new PcieEndpoint(new EndpointConfig("rproc0", 0x0020, DeviceProfile.GENERIC,
                false, false, 0, 1, 0, 1), loop, TimingModel.ESTIMATES), ops);
        unmanaged = new IommuDomain(DomainType.UNMANAGED, ops, new IommuDomainOps() { }, null);
    }

    /** report_iommu_fault(): no handler installed gives -ENOSYS, and the io_page_fault trace event. */
    @Test
    void reportIommuFault_noHandler_returnsEnosysAndTraces() {
        List<TraceEvent.Step> steps = new ArrayList<>();
        loop.trace().addSink(e -> {
            if (e instanceof TraceEvent.Step s) {
                steps.add(s);
            }
        });

        int ret = reporting.reportIommuFault(unmanaged, dev, 0x1000, LegacyFaultReporting.IOMMU_FAULT_WRITE);

        assertThat(ret).isEqualTo(-38).isEqualTo(Errno.ENOSYS.negative());
        assertThat(steps).singleElement().satisfies(s -> {
            assertThat(s.symbol()).isEqualTo("io_page_fault");
            assertThat(s.message()).isEqualTo("IOMMU:dmar0 0000:00:04.0 iova=0x0000000000001000 flags=0x0001");
        });
        assertThat(reporting.cookieType(unmanaged)).isEqualTo(LegacyFaultReporting.CookieType.NONE);
    }

    /**
     * report_iommu_fault(): with a handler (cookie_type IOMMU_COOKIE_FAULT_HANDLER) it is called with the domain,
     * device, iova, flags and the token given at installation, and its return value is returned.
     */
    @Test
    void reportIommuFault_handlerInstalled_calledWithTokenAndItsValueReturned() {
        List<Call> calls = new ArrayList<>();
        Object token = new Object();
        reporting.setFaultHandler(unmanaged, (d, device, iova, flags, t) -> {
            calls.add(new Call(d, device, iova, flags, t));
            return 0;
        }, token);

        int ret = reporting.reportIommuFault(unmanaged, dev, 0xdead_b000L, LegacyFaultReporting.IOMMU_FAULT_READ);

        assertThat(ret).isZero();
        assertThat(calls).containsExactly(new Call(unmanaged, dev, 0xdead_b000L, LegacyFaultReporting.IOMMU_FAULT_READ,
                token));
        assertThat(reporting.cookieType(unmanaged)).isEqualTo(LegacyFaultReporting.CookieType.FAULT_HANDLER);
    }

    /** A handler may itself return -ENOSYS to ask the IOMMU driver for its default behaviour (print). */
    @Test
    void reportIommuFault_handlerReturnsEnosys_passedThrough() {
        reporting.setFaultHandler(unmanaged, (d, device, iova, flags, t) -> Errno.ENOSYS.negative(), null);

        assertThat(reporting.reportIommuFault(unmanaged, null, 0, 0)).isEqualTo(Errno.ENOSYS.negative());
    }

    /**
     * iommu_set_fault_handler(): WARN_ON(domain->cookie_type != IOMMU_COOKIE_NONE) — an SVA domain, a DMA-API
     * domain and a domain that already has a handler keep what they had, and a WARNING is logged.
     */
    @Test
    void setFaultHandler_cookieTaken_warnsAndChangesNothing() {
        FrameAllocator frames = new FrameAllocator(new PhysicalMemory(4L << 20), 1L << 20, new FailureInjector());
        IommuDomain sva = new IommuDomain(DomainType.SVA, ops, new IommuDomainOps() { },
                new MmStruct("proc", frames, frames.allocate()));
        IommuDomain dma = new IommuDomain(DomainType.DMA_FQ, ops, new IommuDomainOps() { }, null);
        List<String> calledBy = new ArrayList<>();
        reporting.setFaultHandler(unmanaged, (d, device, iova, flags, t) -> {
            calledBy.add("first");
            return 0;
        }, null);

        reporting.setFaultHandler(sva, (d, device, iova, flags, t) -> 0, null);
        reporting.setFaultHandler(dma, (d, device, iova, flags, t) -> 0, null);
        reporting.setFaultHandler(unmanaged, (d, device, iova, flags, t) -> {
            calledBy.add("second");
            return 0;
        }, null);

        assertThat(log.lines()).extracting(KernelLog.Line::text).containsExactly(
                "WARNING: iommu_set_fault_handler: SVA domain cookie is SVA, not NONE",
                "WARNING: iommu_set_fault_handler: DMA_FQ domain cookie is DMA_IOVA, not NONE",
                "WARNING: iommu_set_fault_handler: UNMANAGED domain cookie is FAULT_HANDLER, not NONE");
        assertThat(reporting.reportIommuFault(sva, dev, 0, 0)).isEqualTo(Errno.ENOSYS.negative());
        assertThat(reporting.reportIommuFault(dma, dev, 0, 0)).isEqualTo(Errno.ENOSYS.negative());
        reporting.reportIommuFault(unmanaged, dev, 0, 0);
        assertThat(calledBy).containsExactly("first");
    }
}
