package dev.iommulab.hw.vtd;

import static dev.iommulab.hw.vtd.VtdFixture.PASID;
import static dev.iommulab.hw.vtd.VtdFixture.PRQ_ENTRIES;
import static org.assertj.core.api.Assertions.assertThat;

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

/**
 * reference/iommu-hardware.md §6 item 45, third clause: when the Outstanding Page Request Allocations of all
 * functions behind one VT-d unit add up to no more than its page request queue holds (less one slot per function
 * for a Stop Marker, which takes no credit), the queue never overflows however hard the functions fault. Real
 * endpoints (their PRI credits are what bounds them) fault on many more pages than their allocation while the host
 * answers nothing; then a minimal driver drains the queue and answers every group. The over-committed case is the
 * control: the same load with allocations above the capacity does overflow (PRO).
 */
class PrqCapacityAcrossFunctionsTest {

    private static final long VA = 0x0000_7f60_0000_0000L;
    private static final long PA = 0x0200_0000L;
    private static final int FUNCTIONS = 4;
    /** Ring slots usable at once (head/tail ring: one short of its size). */
    private static final int USABLE = PRQ_ENTRIES - 1;
    private static final int WORK_ITEMS_PER_FUNCTION = 3 * USABLE / FUNCTIONS;

    private final VtdFixture f = new VtdFixture();
    private final List<PcieEndpoint> endpoints = new ArrayList<>();
    private final List<DmaOutcome> outcomes = new ArrayList<>();

    /** Functions 02:00.0, 02:01.0, ... with ATS, PASID and PRI, each given {@code allocation} credits. */
    private void functions(int allocation) {
        f.enablePageRequestQueue();
        f.enableInvalidationQueue();
        f.attachSvaDevice();
        for (int i = 0; i < FUNCTIONS; i++) {
            int rid = 0x0200 | i << 3;
            f.writeContext(rid, VtdEntries.PRESENT | VtdEntries.CTX_DTE | VtdEntries.CTX_PASIDE | VtdEntries.CTX_PRE);
            PcieEndpoint e = new PcieEndpoint(new EndpointConfig("acc" + i, rid, DeviceProfile.ACCELERATOR, true, true,
                    20, allocation, 0, 3), f.loop, TimingModel.ESTIMATES);
            e.connect(f.unit);
            f.fabric.attach(e);
            e.setAtsEnabled(true);
            e.setPasidEnabled(true);
            e.enablePri(allocation);
            endpoints.add(e);
        }
        f.submitContextInvalidation();
        f.settle();
    }

    /** Every function faults on {@link #WORK_ITEMS_PER_FUNCTION} pages of its own at once. */
    private void faultEverywhere() {
        for (int i = 0; i < FUNCTIONS; i++) {
            for (int n = 0; n < WORK_ITEMS_PER_FUNCTION; n++) {
                long va = VA + ((long) i * WORK_ITEMS_PER_FUNCTION + n) * 0x1000L;
                endpoints.get(i).startDma(new DmaJob(va, 8, Access.READ, PASID, false, null), outcomes::add);
            }
        }
        f.settle();
    }

    /** The driver from now on: drain PQH..PQT, map each page, answer each LPIG Success, move PQH, clear PPR. */
    private void driverServesTheQueue() {
        Runnable drain = () -> {
            long head = f.unit.readReg(VtdRegs.PQH);
            long tail = f.unit.readReg(VtdRegs.PQT);
            while (head != tail) {
                PageRequestDescriptor d = f.prqSlot((int) (head / VtdRegs.DESC_SIZE));
                f.map(d.addr(), PA, X86Pte.RW | X86Pte.US);
                if (d.lpig()) {
                    f.submit(QiDescriptor.pageGroupResponse(d.rid(), d.pasidPresent(), d.pasid(), 0, d.prgIndex(),
                            true));
                }
                head = (head + VtdRegs.DESC_SIZE) % (PRQ_ENTRIES * VtdRegs.DESC_SIZE);
            }
            f.unit.writeReg(VtdRegs.PQH, head);
            f.unit.writeReg(VtdRegs.PRS, VtdRegs.PRS_PPR);
        };
        f.unit.setPageRequestInterrupt(drain::run);
        drain.run();
        f.settle();
    }

    private long queued() {
        long head = f.unit.readReg(VtdRegs.PQH);
        long tail = f.unit.readReg(VtdRegs.PQT);
        return Math.floorMod(tail - head, PRQ_ENTRIES * VtdRegs.DESC_SIZE) / VtdRegs.DESC_SIZE;
    }

    @Test
    @DisplayName("iommu-hardware §6 item 45: allocations within the queue's capacity never overflow it")
    void pageRequests_allocationsWithinCapacity_queueNeverOverflowsAndAllComplete() {
        int allocation = (USABLE - FUNCTIONS) / FUNCTIONS; // one slot per function kept for its Stop Marker
        functions(allocation);

        faultEverywhere();

        assertThat(queued()).as("every credit in use, each as one queued request")
                .isEqualTo((long) FUNCTIONS * allocation);
        assertThat(f.prs() & VtdRegs.PRS_PRO).as("PRO with the host answering nothing").isZero();
        assertThat(endpoints).allSatisfy(e -> assertThat(e.priState().creditsInUse()).isEqualTo(allocation));

        driverServesTheQueue();

        assertThat(f.prs() & VtdRegs.PRS_PRO).as("PRO after every request was served").isZero();
        assertThat(outcomes).hasSize(FUNCTIONS * WORK_ITEMS_PER_FUNCTION)
                .allSatisfy(o -> assertThat(o.status()).isEqualTo(DmaStatus.OK));
        assertThat(endpoints).allSatisfy(e -> {
            assertThat(e.creditHighWater()).isEqualTo(allocation);
            assertThat(e.creditOverruns()).isZero();
            assertThat(e.priState().creditsInUse()).isZero();
        });
    }

    /** The control: the same load with the allocations over the capacity fills the queue and sets PRO. */
    @Test
    @DisplayName("iommu-hardware §6 item 45: allocations over the queue's capacity do overflow it (control)")
    void pageRequests_allocationsOverCapacity_queueOverflows() {
        functions(USABLE / FUNCTIONS + 1);

        faultEverywhere();

        assertThat(queued()).isEqualTo(USABLE);
        assertThat(f.prs() & VtdRegs.PRS_PRO).isEqualTo(VtdRegs.PRS_PRO);
    }
}
