package dev.iommulab.hw.pci;

import static dev.iommulab.hw.pci.EndpointFixture.PA;
import static dev.iommulab.hw.pci.EndpointFixture.PASID;
import static dev.iommulab.hw.pci.EndpointFixture.VA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.iommu.PrgResponseCode;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.SimRandom;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Work items of any length (issue 14, point 5): a size beyond 2^31 or 2^32 is the size the engine works through,
 * never cut to an int; a write's bytes are made chunk by chunk ({@link DmaPayload.Drawn}), so a work item whose
 * first page faults makes none, and a read that does not keep its bytes allocates nothing for them.
 */
class LongDmaJobTest {

    private static final long FOUR_GIB = 4L << 30;

    private final EndpointFixture f = EndpointFixture.accelerator();

    @Test
    void startDma_writeOfFourGibPlus8KibFirstPageInvalid_failsAtFirstPageWithoutMakingBytes() {
        f.hostAnswers(PrgResponseCode.INVALID_REQUEST.wire(), false);
        DmaPayload.Drawn payload = DmaPayload.drawn(new SimRandom(1), FOUR_GIB + 8192);

        DmaOutcome outcome = f.run(DmaJob.streaming(VA, FOUR_GIB + 8192, Access.WRITE, PASID, false, payload));

        assertThat(outcome.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(outcome.faultAddr()).isEqualTo(VA);
        assertThat(outcome.job().size()).isEqualTo(FOUR_GIB + 8192);
        assertThat(payload.bytesProduced()).isZero();
        assertThat(f.iommu.memoryRequests).isEmpty();
    }

    /** Cut to an int, 4 GiB + 16 bytes would be 16 bytes and end ok on the first page. */
    @Test
    void startDma_exactlyFourGibPlus16SecondPageInvalid_failsAtSecondPage() {
        f.iommu.makeResident(VA, PA);
        f.hostAnswers(PrgResponseCode.INVALID_REQUEST.wire(), false);
        DmaPayload.Drawn payload = DmaPayload.drawn(new SimRandom(2), FOUR_GIB + 16);

        DmaOutcome outcome = f.run(DmaJob.streaming(VA, FOUR_GIB + 16, Access.WRITE, PASID, false, payload));

        assertThat(outcome.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(outcome.faultAddr()).isEqualTo(VA + 0x1000);
        assertThat(payload.bytesProduced()).isEqualTo(0x1000);
    }

    @Test
    void startDma_readOfThreeGibFirstPageInvalid_endsWithoutKeepingBytes() {
        f.hostAnswers(PrgResponseCode.INVALID_REQUEST.wire(), false);

        DmaOutcome outcome = f.run(DmaJob.streaming(VA, 3L << 30, Access.READ, PASID, false, null));

        assertThat(outcome.status()).isEqualTo(DmaStatus.INVALID);
        assertThat(outcome.faultAddr()).isEqualTo(VA);
        assertThat(outcome.data()).isEmpty();
    }

    @Test
    void startDma_drawnWriteAcrossThreePages_memoryHoldsTheDrawnBytes() {
        for (int i = 0; i < 3; i++) {
            f.iommu.makeResident(VA + i * 0x1000L, PA + i * 0x1000L);
        }
        DmaPayload.Drawn payload = DmaPayload.drawn(new SimRandom(9), 0x2100);

        DmaOutcome outcome = f.run(DmaJob.streaming(VA + 0x700, 0x2100, Access.WRITE, PASID, false, payload));

        SplittableRandom draws = new SplittableRandom(9);
        byte[] expected = new byte[0x2100];
        for (int i = 0; i < expected.length; i += 8) {
            long w = draws.nextLong();
            for (int b = 0; b < 8; b++) {
                expected[i + b] = (byte) (w >>> (8 * b));
            }
        }
        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(f.memory.read(PA + 0x700, 0x2100)).isEqualTo(expected);
        assertThat(payload.bytesProduced()).isEqualTo(0x2100);
    }

    @Test
    void startDma_streamingReadThatSucceeds_keepsNoBytes() {
        f.iommu.makeResident(VA, PA);

        DmaOutcome outcome = f.run(DmaJob.streaming(VA, 64, Access.READ, PASID, false, null));

        assertThat(outcome.status()).isEqualTo(DmaStatus.OK);
        assertThat(outcome.data()).isEmpty();
    }

    @Test
    void dmaJob_endBeyondLongRange_isRefused() {
        assertThatThrownBy(() -> DmaJob.streaming(Long.MAX_VALUE - 0xfff, 0x1000, Access.READ, -1, false, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("overflows");
    }

    @Test
    void dmaJob_keptReadLongerThanAnArray_isRefused() {
        assertThatThrownBy(() -> new DmaJob(VA, DmaJob.MAX_KEPT_READ + 1, Access.READ, -1, false, null))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most");
    }

    @Test
    void dmaJob_writeWhosePayloadHasAnotherSize_isRefused() {
        DmaPayload payload = DmaPayload.drawn(new SimRandom(1), 10);

        assertThatThrownBy(() -> DmaJob.streaming(VA, 11, Access.WRITE, -1, false, payload))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
