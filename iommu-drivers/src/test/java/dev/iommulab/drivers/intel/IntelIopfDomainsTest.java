package dev.iommulab.drivers.intel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.hw.vtd.VtdEntries;
import org.junit.jupiter.api.Test;

/**
 * IOPF for a fault-capable NESTED domain at the RID, which only VT-d has: iopf_for_domain_set() as
 * intel_nested_attach_dev() calls it (intel/nested.c, intel/iommu.h). What every driver does for fault-capable
 * paging domains at the RID and at a PASID — iopf_for_domain_set() / _replace() / _remove(), the reference count,
 * the round trips without and with PASID — is in {@link dev.iommulab.fixtures.drivers.IommuOpsContract}
 * ({@link IntelIommuOpsContractTest}).
 */
class IntelIopfDomainsTest {

    private final IntelIommuFixture f = new IntelIommuFixture();

    /**
     * intel_nested_attach_dev() → iopf_for_domain_set(): a NESTED domain with an {@code iopf_handler} (an iommufd
     * nested HWPT with a fault object) at the RID enables IOPF too; the RID_PASID entry is nested (PGTT 011b).
     */
    @Test
    void attachDevice_faultCapableNested_addsDeviceToIopfQueue() {
        IommuDomain parent = f.core.domainAllocPaging(f.dev, DomainType.UNMANAGED, IommuCore.HWPT_ALLOC_NEST_PARENT);
        IommuDomain nested = f.core.domainAllocNested(f.dev, parent, 0x0010_0000L, 48);
        nested.setIopfHandler(group -> 0);

        f.core.attachGroupHandle(nested, f.dev.group(), new AttachHandle(nested));

        assertThat(IntelDomainFixture.pgtt(f.pasidEntry(IommuCore.IOMMU_NO_PASID))).isEqualTo(VtdEntries.PGTT_NESTED);
        assertThat(f.iopf.queueOf(f.dev)).isSameAs(f.intel.iopfQueue());
        assertThat(f.endpoint.priState().enabled()).isTrue();

        f.core.detachGroupHandle(nested, f.dev.group());
        assertThat(f.iopf.queueOf(f.dev)).isNull();
    }
}
