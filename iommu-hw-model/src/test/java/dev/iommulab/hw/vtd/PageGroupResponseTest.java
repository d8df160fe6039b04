package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.RID;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.X86Pte;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * reference/iommu-hardware.md §6 item 34 (VT-d page group response) and §2.1.3 (Responses): software answers a
 * queued LPIG page request with a type 0x9 descriptor carrying the request's RID, PASID and PRG index and its
 * private data (qw2/qw3) unchanged; code 0 reaches the function as Success for that PRG, 0xF as Response Failure,
 * and any code other than 0 and 1 is a failure to the function.
 *
 * <p>Private data comes from root-complex integrated devices (PCIe Page Request Messages have no such field), so
 * the round trip is driven at the unit with a {@link PageRequestMessage} that carries it.
 */
class PageGroupResponseTest {

    private static final long VA = 0x0000_7f70_0000_0000L;
    private static final long PA = 0x0090_0000L;

    private final VtdFixture f = new VtdFixture();
    private final List<PageRequestDescriptor> queued = new ArrayList<>();
    private final List<DmaOutcome> outcomes = new ArrayList<>();
    private PcieEndpoint endpoint;

    private void setUp(int code) {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        f.enableInvalidationQueue();
        endpoint = new PcieEndpoint(new EndpointConfig("acc0", RID, DeviceProfile.ACCELERATOR, true, true, 20, 8, 0,
                3), f.loop, TimingModel.ESTIMATES);
        endpoint.connect(f.unit);
        f.function.forwardTo(endpoint);
        endpoint.setAtsEnabled(true);
        endpoint.setPasidEnabled(true);
        endpoint.enablePri(8);
        f.unit.setPageRequestInterrupt(() -> answerEach(code));
    }

    /** The driver: each queued LPIG request is mapped and answered {@code code}, private data echoed. */
    private void answerEach(int code) {
        long head = f.unit.readReg(VtdRegs.PQH);
        long tail = f.unit.readReg(VtdRegs.PQT);
        while (head != tail) {
            PageRequestDescriptor d = f.prqSlot((int) (head / VtdRegs.DESC_SIZE));
            queued.add(d);
            f.map(d.addr(), PA, X86Pte.RW | X86Pte.US);
            if (d.lpig()) {
                QiDescriptor r = QiDescriptor.pageGroupResponse(d.rid(), d.pasidPresent(), d.pasid(), code,
                        d.prgIndex(), true);
                f.submit(new QiDescriptor(r.qw0(), r.qw1(), d.privData0(), d.privData1()));
            }
            head = (head + VtdRegs.DESC_SIZE) % (VtdFixture.PRQ_ENTRIES * VtdRegs.DESC_SIZE);
        }
        f.unit.writeReg(VtdRegs.PQH, head);
        f.unit.writeReg(VtdRegs.PRS, VtdRegs.PRS_PPR);
    }

    @ParameterizedTest(name = "code {0}: {1}")
    @CsvSource({"0, OK, false", "15, PRI_FAILED, true", "3, PRI_FAILED, true", "14, PRI_FAILED, true"})
    @DisplayName("iommu-hardware §6 item 34: a type 0x9 response for the queued group reaches the function")
    void pageGroupResponse_sameGroup_functionGetsCodeForThatPrg(int code, DmaStatus status, boolean rf) {
        setUp(code);

        endpoint.startDma(new DmaJob(VA + 0x20, 8, Access.READ, PASID, false, null), outcomes::add);
        f.settle();

        assertThat(queued).singleElement().satisfies(d -> {
            assertThat(d.lpig()).isTrue();
            assertThat(d.pasid()).isEqualTo(PASID);
        });
        assertThat(f.function.responses).containsExactly(
                new PrgResponse(RID, true, PASID, queued.get(0).prgIndex(), code));
        assertThat(outcomes).singleElement().satisfies(o -> assertThat(o.status()).isEqualTo(status));
        assertThat(endpoint.priState().responseFailure()).as("RF").isEqualTo(rf);
        assertThat(endpoint.priState().creditsInUse()).isZero();
    }

    /**
     * §2.1.3 and §6 item 34 with private data D: a request carrying D is queued with Private Data Present and D in
     * qw2/qw3; software echoes D in the type 0x9 descriptor (PDP, qw2/qw3), and the function receives Success for
     * its PRG with D back. Kernels before the 2024 io-pgfault rework echoed it ({@code QI_PGRP_PDP} and
     * {@code priv_data} in intel_svm_page_response()); current ones no longer send it, which the model allows too.
     */
    @Test
    @DisplayName("iommu-hardware §6 item 34: private data D comes back to the function with the response")
    void pageGroupResponse_privateDataEchoed_functionReceivesSuccessWithSameData() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        f.enableInvalidationQueue();
        PageRequestMessage.PrivateData data = new PageRequestMessage.PrivateData(0x1122_3344_5566_7788L,
                0x99aa_bbcc_ddee_ff00L);

        f.unit.pageRequest(new PageRequestMessage(RID, true, PASID, false, false, true, false, true, 0x1a5, VA, data));
        f.loop.runUntilIdle();
        PageRequestDescriptor queuedRequest = f.prqSlot(0);
        f.submit(QiDescriptor.pageGroupResponse(queuedRequest.rid(), true, queuedRequest.pasid(), 0,
                queuedRequest.prgIndex(), true, queuedRequest.toMessage().privateData()));
        f.loop.runUntilIdle();

        assertThat(f.memory.readLong(f.prqBase) & (1L << 9)).as("Private Data Present").isNotZero();
        assertThat(f.memory.readLong(f.prqBase + 16)).isEqualTo(0x1122_3344_5566_7788L);
        assertThat(f.memory.readLong(f.prqBase + 24)).isEqualTo(0x99aa_bbcc_ddee_ff00L);
        assertThat(f.function.responses).singleElement().satisfies(r -> {
            assertThat(r.prgi()).isEqualTo(0x1a5);
            assertThat(r.pasid()).isEqualTo(PASID);
            assertThat(r.code()).isEqualTo(PrgResponseCode.SUCCESS);
            assertThat(r.privateData()).isEqualTo(data);
        });
    }

    /** A request without private data is queued with PDP clear, and a response without PDP carries none. */
    @Test
    @DisplayName("iommu-hardware §6 item 34: no private data, none echoed")
    void pageGroupResponse_noPrivateData_functionReceivesNone() {
        f.attachSvaDevice();
        f.enablePageRequestQueue();
        f.enableInvalidationQueue();

        f.unit.pageRequest(new PageRequestMessage(RID, true, PASID, false, false, true, false, true, 0x1a5, VA));
        f.loop.runUntilIdle();
        f.submit(QiDescriptor.pageGroupResponse(RID, true, PASID, 0, 0x1a5, true));
        f.loop.runUntilIdle();

        assertThat(f.memory.readLong(f.prqBase) & (1L << 9)).as("Private Data Present").isZero();
        assertThat(f.function.responses).singleElement()
                .satisfies(r -> assertThat(r.privateData()).isNull());
    }
}
