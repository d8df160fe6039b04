package dev.iommulab.core.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * A policy's time parameter is a timer one run may arm many times, so it is refused beyond 2^40 ns rather than let
 * the simulated clock overflow (issue 14, point 5).
 */
class PoliciesTimeTest {

    @Test
    void positiveTime_atTheLimit_isTaken() {
        assertThat(Policies.positiveTime("dma.flush.timeout", "1099511627776")).isEqualTo(Policies.MAX_TIME_NS);
        assertThat(Policies.positiveTime("dma.flush.timeout", "10ms")).isEqualTo(10_000_000L);
    }

    @Test
    void positiveTime_beyondTheLimit_refusedNamingTheKey() {
        assertThatThrownBy(() -> Policies.positiveTime("dma.flush.timeout", "1099511627777"))
                .isInstanceOf(PolicyException.class).hasMessageContaining("dma.flush.timeout")
                .hasMessageContaining("at most 2^40 ns");
        assertThatThrownBy(() -> Policies.positiveTime("dma.flush.timeout", "9223372036854775807"))
                .isInstanceOf(PolicyException.class);
    }
}
