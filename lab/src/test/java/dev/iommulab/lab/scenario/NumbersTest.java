package dev.iommulab.lab.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Number, size and time syntax. */
class NumbersTest {

    @ParameterizedTest
    @CsvSource({
        "0, 0", "4096, 4096", "1_000, 1000", "0x1000, 4096", "0X7f0000000000, 139637976727552",
        "0x7fff_ffff, 2147483647", "64KiB, 65536", "8KiB, 8192", "2MiB, 2097152", "1GiB, 1073741824",
        "'4 KiB', 4096", "0x10KiB, 16384", "9223372036854775807, 9223372036854775807"})
    void parseSize_validText_givesBytes(String text, long expected) {
        assertThat(Numbers.parseSize(text)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"8KQ", "", "-1", "1.5", "0x", "0xg", "KiB", "4kib", "4 KB", "1e3", "_1"})
    void parseSize_badText_throwsNamingText(String text) {
        assertThatThrownBy(() -> Numbers.parseSize(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("invalid number '" + text
                        + "'; expected decimal or 0x hex, optionally with KiB, MiB or GiB");
    }

    @ParameterizedTest
    @ValueSource(strings = {"9223372036854775808", "0x8000000000000000", "8589934592GiB"})
    void parseSize_tooLarge_throwsOutOfRange(String text) {
        assertThatThrownBy(() -> Numbers.parseSize(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is out of range");
    }

    @ParameterizedTest
    @CsvSource({"250, 250", "250ns, 250", "5us, 5000", "3ms, 3000000", "0x10us, 16000", "'2 ms', 2000000"})
    void parseTime_validText_givesNanoseconds(String text, long expected) {
        assertThat(Numbers.parseTime(text)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"5s", "1.5us", "us", "-3ms", "4KiB"})
    void parseTime_badText_throwsNamingText(String text) {
        assertThatThrownBy(() -> Numbers.parseTime(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid time '" + text + "'");
    }
}
