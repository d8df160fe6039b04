package dev.iommulab.drivers.intel;

import static dev.iommulab.drivers.intel.IntelIommuFixture.PASID;
import static dev.iommulab.drivers.intel.IntelIommuFixture.RID;
import static dev.iommulab.drivers.intel.IntelIommuFixture.VA;
import static dev.iommulab.drivers.intel.IntelIommuFixture.request;
import static dev.iommulab.drivers.intel.PrqEventThreadTest.assertPageGroupResponse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.drivers.intel.IntelIommuFixture.Answer;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pci.PriState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * How a group's answer leaves the Intel driver: one page group response descriptor per group, the
 * kernel's response code put on the wire unchanged, PASID-present and LPIG from the last fault, and
 * what the function makes of the code. Derives from intel_iommu_page_response() (intel/prq.c),
 * reference/linux-fault-stack.md §1.2 and §8 item 49, and reference/iommu-hardware.md §2.1.3 and §6
 * scenario 34 (any code other than 0 or 1 is treated as failure by the function).
 */
class IntelPageResponseTest {

    private final IntelIommuFixture f = new IntelIommuFixture().attach();

    /**
     * §8 item 49: SUCCESS goes out as 0x0, INVALID as 0x1 and FAILURE as 0x2 (the enum value, not
     * QI_RESP_FAILURE 0xF), in a descriptor with PASID-present and LPIG copied from the last fault, for the
     * group's PRGI. The function reads 0x0 as Success, 0x1 as Invalid Request, and the unused code 0x2 as
     * Response Failure (scenario 34).
     */
    @ParameterizedTest(name = "{0} -> wire {1} -> {2}")
    @CsvSource({"SUCCESS, 0, SUCCESS", "INVALID, 1, INVALID_REQUEST", "FAILURE, 2, RESPONSE_FAILURE"})
    void pageResponse_handlerCode_sentUnchangedOnWire(PageResponseCode code, int wire, PrgResponseCode seen) {
        f.answer = code;

        f.send(request(0x123, true, false, false, VA), request(0x123, true, true, true, VA + 0x1000));

        assertThat(f.answers).extracting(Answer::origin, a -> a.response().code())
                .containsExactly(tuple(ResponseOrigin.SVA, code));
        assertThat(f.pageGroupResponseDescriptors()).hasSize(1);
        assertPageGroupResponse(f.pageGroupResponseDescriptors().get(0), wire, true, 0x123, true);
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 0x123, wire));
        assertThat(f.prgResponses.get(0).code()).isEqualTo(seen);
        assertThat(f.endpoint.priState().creditsInUse()).as("both credits returned").isZero();
        assertThat(f.endpoint.priState().responseFailure()).isEqualTo(code == PageResponseCode.FAILURE);
    }

    /**
     * A kernel FAILURE is 0x2 on the wire, never 0xF, and the function takes it as Response Failure: RF
     * is set and it stops issuing page requests, so a later request never reaches the IOMMU.
     */
    @Test
    void pageResponse_failure_functionSetsRfAndStopsPageRequests() {
        f.answer = PageResponseCode.FAILURE;
        f.send(request(1, true, false, true, VA));

        assertThat(f.prgResponses).extracting(PrgResponse::wireCode).containsExactly(0x2);
        assertThat(f.endpoint.priState()).isEqualTo(new PriState(true, true, false, false, 32, 0));

        f.send(request(2, true, false, true, VA + 0x1000));

        assertThat(f.reports).hasSize(1);
        assertThat(f.groups).hasSize(1);
        assertThat(f.prgResponses).hasSize(1);
    }

    /** One response per group, never one per request: two groups of two requests each give two responses. */
    @Test
    void pageResponse_twoGroups_oneDescriptorPerGroup() {
        f.send(request(1, true, false, false, VA), request(2, true, false, false, VA + 0x8000),
                request(1, true, false, true, VA + 0x1000), request(2, true, false, true, VA + 0x9000));

        assertThat(f.groups).hasSize(2);
        assertThat(f.pageGroupResponseDescriptors()).hasSize(2);
        assertThat(f.prgResponses).extracting(PrgResponse::prgi, PrgResponse::wireCode)
                .containsExactly(tuple(1, 0x0), tuple(2, 0x0));
        assertThat(f.endpoint.priState().creditsInUse()).isZero();
    }
}
