package dev.iommulab.hw.sim;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A constant whose spelling in scenario files, reports and trace lines is its name in lower-case kebab form:
 * {@code BAD_SETUP} is {@code bad-setup}. One rule for every enum of the lab, so a spelling is never kept twice (a
 * constant and a string beside it); an enum whose spellings do not follow the rule keeps its own table instead.
 */
public interface Labelled {

    /** The constant's Java name ({@link Enum#name()}). */
    String name();

    /** The spelling in scenario files and reports. */
    default String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The spellings of {@code type}'s constants, in declaration order. */
    static <E extends Enum<E> & Labelled> List<String> labels(Class<E> type) {
        return Arrays.stream(type.getEnumConstants()).map(Labelled::label).toList();
    }

    /** The constant of {@code type} spelled {@code label}; empty for any other string. */
    static <E extends Enum<E> & Labelled> Optional<E> fromLabel(Class<E> type, String label) {
        return Arrays.stream(type.getEnumConstants()).filter(e -> e.label().equals(label)).findFirst();
    }
}
