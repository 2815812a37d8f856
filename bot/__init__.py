"""regsosek-bot: daily field coordination for Regsosek 2022 in Kabupaten Kepulauan Meranti."""
