package dev.iommulab.iopf;

import static dev.iommulab.iopf.IopfFixture.VA;
import static dev.iommulab.iopf.IopfFixture.last;
import static dev.iommulab.iopf.IopfFixture.resp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** find_fault_handler() at the RID: plain domains, NESTED domains and the user_pasid_table fallback. */
class IopfRidRoutingTest {

    private IopfFixture f;
    private Device dev;

    @BeforeEach
    void setUp() {
        f = new IopfFixture();
        dev = f.probeOnQueue("accel0", 0x0100);
    }

    private static IommuFault ridLast(int grpid) {
        return IommuFault.pageRequest(IommuFault.PAGE_REQUEST_LAST_PAGE, 0, grpid, IommuFault.PERM_READ, VA);
    }

    /**
     * find_fault_handler(): the RID holds a plain DMA domain without iopf_handler; a non-PASID LPIG fault
     * has no handler → err_bad_iopf: INVALID, -EINVAL. Reference §8 item 12, §2.2 steps 1-2.
     */
    @Test
    void item12_domainWithoutHandler_answersInvalidAndReturnsEinval() {
        f.attachRid(dev, DomainType.DMA, null);

        int ret = f.iopf.reportDeviceFault(dev, ridLast(2));

        assertThat(ret).isEqualTo(Errno.EINVAL.negative());
        assertThat(f.ops.messages()).containsExactly(resp(0, 2, PageResponseCode.INVALID));
        assertThat(f.origins).containsExactly(ResponseOrigin.BAD_SETUP);
        assertThat(f.iopf.pendingGroups(dev)).isZero();
    }

    /**
     * find_fault_handler(): a fault without PASID goes to the fault-capable domain at the RID.
     * Reference §2.2 step 1.
     */
    @Test
    void reportDeviceFault_noPasidAndFaultCapableRidDomain_deliversToRidHandler() {
        IommuDomain rid = f.attachRid(dev, DomainType.UNMANAGED, f.holdingHandler());

        assertThat(f.iopf.reportDeviceFault(dev, ridLast(4))).isZero();

        assertThat(f.handled).singleElement().extracting(g -> g.attachHandle().domain()).isSameAs(rid);
        assertThat(f.ops.responses()).isEmpty();
    }

    /**
     * find_fault_handler() with ops->user_pasid_table: a fault for an un-attached PASID 9 goes to the NESTED
     * fault-capable domain on the RID, with pasid 9 kept; answered with pasid 9. Reference §8 item 17.
     */
    @Test
    void item17_userPasidTableRouting_deliversUnattachedPasidToNestedRidDomain() {
        f.ops.setUserPasidTable(true);
        IommuDomain nested = f.attachRid(dev, DomainType.NESTED, f.holdingHandler());

        assertThat(f.iopf.reportDeviceFault(dev, last(9, 3, VA))).isZero();

        IopfGroup group = f.handled.get(0);
        assertThat(group.attachHandle().domain()).isSameAs(nested);
        assertThat(group.lastFault().pasid()).isEqualTo(9);
        f.iopf.groupResponse(group, PageResponseCode.SUCCESS);
        assertThat(f.ops.messages()).containsExactly(resp(9, 3, PageResponseCode.SUCCESS));
    }

    /**
     * find_fault_handler() with ops->user_pasid_table but a RID domain that is not NESTED: the typed lookup
     * fails → INVALID, -EINVAL. Reference §8 item 17.
     */
    @Test
    void item17_userPasidTableRidNotNested_answersInvalid() {
        f.ops.setUserPasidTable(true);
        f.attachRid(dev, DomainType.UNMANAGED, f.holdingHandler());

        int ret = f.iopf.reportDeviceFault(dev, last(9, 3, VA));

        assertThat(ret).isEqualTo(Errno.EINVAL.negative());
        assertThat(f.handled).isEmpty();
        assertThat(f.ops.messages()).containsExactly(resp(9, 3, PageResponseCode.INVALID));
    }

    /**
     * Without ops->user_pasid_table a NESTED RID domain does not catch PASID faults: INVALID.
     * find_fault_handler(); reference §2.2 step 1.
     */
    @Test
    void reportDeviceFault_nestedRidWithoutUserPasidTable_answersInvalid() {
        f.attachRid(dev, DomainType.NESTED, f.holdingHandler());

        assertThat(f.iopf.reportDeviceFault(dev, last(9, 3, VA))).isEqualTo(Errno.EINVAL.negative());

        assertThat(f.handled).isEmpty();
    }
}
