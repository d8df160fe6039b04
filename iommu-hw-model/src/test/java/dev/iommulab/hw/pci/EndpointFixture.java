package dev.iommulab.hw.pci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * One function on a {@link FakeIommu}, behind a {@link PcieFabric}, with helpers to run work items and to
 * play the host's part of PRI. Built with the capabilities enabled as the kernel would after probe.
 */
final class EndpointFixture {

    static final int RID = 0x0410;
    static final int PASID = 3;
    static final long VA = 0x7000_0000L;
    static final long PA = 0x2_3000L;

    final EventLoop loop = new EventLoop(11);
    final PhysicalMemory memory = new PhysicalMemory(4L << 20);
    final FakeIommu iommu = new FakeIommu(memory, loop::now);
    final PcieFabric fabric = new PcieFabric(loop, TimingModel.ESTIMATES.pcieTlpNs());
    final List<DmaOutcome> outcomes = new ArrayList<>();
    final PcieEndpoint endpoint;

    EndpointFixture(DeviceProfile profile, boolean ats, boolean pri, int allocation, EndpointOptions options) {
        EndpointConfig config = new EndpointConfig("dev0", RID, profile, ats, pri, 20, 32, 16, 3, options);
        endpoint = new PcieEndpoint(config, loop, TimingModel.ESTIMATES);
        endpoint.connect(iommu);
        fabric.attach(endpoint);
        endpoint.setAtsEnabled(true);
        endpoint.setPasidEnabled(true);
        endpoint.enablePri(allocation);
    }

    /** An SVA accelerator with ATS and PRI (allocation 8) and default options. */
    static EndpointFixture accelerator() {
        return new EndpointFixture(DeviceProfile.ACCELERATOR, true, true, 8, EndpointOptions.DEFAULTS);
    }

    /** A function without ATS: every request is untranslated. */
    static EndpointFixture withoutAts(DeviceProfile profile, EndpointOptions options) {
        return new EndpointFixture(profile, false, false, 0, options);
    }

    /** The host answers every LPIG request with {@code wireCode}, after mapping its group's pages if asked to. */
    void hostAnswers(int wireCode, boolean mapPages) {
        hostAnswers(wireCode, mapPages, m -> true);
    }

    /** As {@link #hostAnswers(int, boolean)}, for requests {@code which} selects; the others stay unanswered. */
    void hostAnswers(int wireCode, boolean mapPages, Predicate<PageRequestMessage> which) {
        iommu.onPageRequest(m -> {
            if (m.isStopMarker() || !which.test(m)) {
                return;
            }
            if (mapPages) {
                iommu.makeResident(m.pageAddr(), PA);
            }
            if (m.last()) {
                respond(m, wireCode);
            }
        });
    }

    /** Sends the PRG response for {@code m}'s group through the fabric. */
    void respond(PageRequestMessage m, int wireCode) {
        fabric.sendPrgResponse(new PrgResponse(m.rid(), m.pasidPresent(), m.pasid(), m.prgi(), wireCode));
    }

    /** Starts a work item and returns the list its outcome will be added to. */
    void start(DmaJob job) {
        endpoint.startDma(job, outcomes::add);
    }

    /** Runs one work item to the end and returns its outcome. */
    DmaOutcome run(DmaJob job) {
        int before = outcomes.size();
        start(job);
        loop.runUntilIdle();
        assertThat(outcomes).hasSize(before + 1);
        return outcomes.get(before);
    }

    static DmaJob read(long addr, int size) {
        return new DmaJob(addr, size, Access.READ, PASID, false, null);
    }

    static DmaJob untaggedRead(long addr, int size) {
        return new DmaJob(addr, size, Access.READ, -1, false, null);
    }

    static DmaJob write(long addr, int size) {
        return new DmaJob(addr, size, Access.WRITE, PASID, false, bytes(size, 0x10));
    }

    static DmaJob untaggedWrite(long addr, int size) {
        return new DmaJob(addr, size, Access.WRITE, -1, false, bytes(size, 0x10));
    }

    static byte[] bytes(int length, int seed) {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++) {
            data[i] = (byte) (seed + i);
        }
        return data;
    }
}
