package dev.iommulab.hw.sim;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.pci.DmaStatus;
import org.junit.jupiter.api.Test;

class LabelledTest {

    private enum Sample implements Labelled { OK, PRI_FAILED, RETRY_LIMIT }

    @Test
    void label_underscoredName_isLowerCaseKebab() {
        assertThat(Sample.PRI_FAILED.label()).isEqualTo("pri-failed");
        assertThat(DmaStatus.DEVICE_ERROR.label()).isEqualTo("device-error");
    }

    @Test
    void labels_type_declarationOrder() {
        assertThat(Labelled.labels(Sample.class)).containsExactly("ok", "pri-failed", "retry-limit");
    }

    @Test
    void fromLabel_spelling_findsConstant() {
        assertThat(Labelled.fromLabel(Sample.class, "retry-limit")).contains(Sample.RETRY_LIMIT);
    }

    @Test
    void fromLabel_javaNameOrUnknown_isEmpty() {
        assertThat(Labelled.fromLabel(Sample.class, "RETRY_LIMIT")).isEmpty();
        assertThat(Labelled.fromLabel(Sample.class, "retry_limit")).isEmpty();
        assertThat(Labelled.fromLabel(Sample.class, "")).isEmpty();
    }
}
